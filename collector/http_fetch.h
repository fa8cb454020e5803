// HttpFetch: the collector's HTTP/1.1 client for agents, which are
// untrusted: every request has a connect timeout, one deadline for the whole
// exchange (a slowloris agent that dribbles bytes is cut off at it; the TLS
// handshake counts too), and a cap on the response size (a huge body is cut
// off, not buffered). http:// and https:// (the server certificate verified
// by collector/agent_tls_context.h, against the URL's host); one request per
// connection (Connection: close). Thread-safe (no shared state but the
// read-only TLS context).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "collector/agent_tls_context.h"
#include "core/result.h"

namespace resmeter {

struct HttpFetchOptions {
  double connect_timeout_seconds = 3;
  double deadline_seconds = 10;                // connect to the last byte of the response
  size_t max_response_bytes = 16u << 20;       // headers and body
  std::shared_ptr<const AgentTlsContext> tls;  // for https:// URLs (null: they are refused)
  // Basic auth for agents whose web config asks for a user: sent over
  // https:// only (never in clear text), when the user is not empty.
  std::string basic_auth_user;
  std::string basic_auth_password;
};

struct HttpFetchResponse {
  int status = 0;
  std::string content_type;  // lower case, parameters removed ("application/jsonl")
  std::string body;
  double elapsed_seconds = 0;
};

// "http[s]://host:port[/prefix]" split; the prefix has no trailing '/'.
struct HttpUrl {
  bool tls = false;  // https://
  std::string host;
  int port = 80;  // 443 for https:// without a port
  std::string prefix;
};
Result<HttpUrl> ParseHttpUrl(const std::string& url);

// The status line and headers of a response (without the blank line).
struct HttpResponseHead {
  int status = 0;
  std::string content_type;  // lower case, parameters removed
  std::optional<size_t> content_length;
};
// Parses them; Corruption / IOError naming what is wrong (not HTTP, a
// malformed status or Content-Length, chunked encoding, a length over
// max_body_bytes). Pure; the fuzz target tests/fuzz/http_response_head_fuzz.cc.
Result<HttpResponseHead> ParseHttpResponseHead(std::string_view head, size_t max_body_bytes);

// Sends `method` `path` (appended to the URL's prefix) with `body` (when not
// empty, as `content_type`). Errors: InvalidArgument (bad URL, https://
// without a TLS context), IOError (connect refused, reset, malformed
// response), DeadlineExceeded (connect timeout or deadline), Corruption
// (response over max_response_bytes), VerifyFailed (the TLS handshake failed:
// the server certificate did not verify or name the host, the agent wanted a
// client certificate, or it does not speak TLS; the message says which).
Result<HttpFetchResponse> HttpFetch(const std::string& base_url, const std::string& method,
                                    const std::string& path, const std::string& body,
                                    const std::string& content_type, const HttpFetchOptions& options);

}  // namespace resmeter
