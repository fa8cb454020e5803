// The document around every page: one self-contained HTML file that loads
// nothing at view time. Its Content-Security-Policy (default-src 'none')
// blocks every request and every script but the page's own small one,
// pinned by its SHA-256: that script only lists, in a visible box, anything
// the policy blocked or any script error (a hostile string that escaped
// escaping would show there), and stamps the time the page took to lay out
// (data-render-ms on <html>). The page reads the same without it.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace resmeter::html {

// The inline script, byte for byte as the page carries it.
extern const std::string_view kPageScript;
// "sha256-<base64 of SHA-256(kPageScript)>", the CSP source that admits it
// (a unit test recomputes it).
extern const std::string_view kPageScriptHash;

// A complete page: <!DOCTYPE html>, head (charset, CSP, title, style,
// script) and `body_html` inside <body><main>.
std::string Page(std::string_view title, std::string_view body_html);

}  // namespace resmeter::html
