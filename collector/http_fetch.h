// HttpFetch: the collector's HTTP/1.1 client for agents, which are
// untrusted: every request has a connect timeout, one deadline for the whole
// exchange (a slowloris agent that dribbles bytes is cut off at it), and a
// cap on the response size (a huge body is cut off, not buffered). Plain
// http:// only (agents behind TLS: see README "Collector"); one request per
// connection (Connection: close). Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace resmeter {

struct HttpFetchOptions {
  double connect_timeout_seconds = 3;
  double deadline_seconds = 10;           // connect to the last byte of the response
  size_t max_response_bytes = 16u << 20;  // headers and body
};

struct HttpFetchResponse {
  int status = 0;
  std::string content_type;  // lower case, parameters removed ("application/jsonl")
  std::string body;
  double elapsed_seconds = 0;
};

// "http://host:port[/prefix]" split; the prefix has no trailing '/'.
struct HttpUrl {
  std::string host;
  int port = 80;
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
// empty, as `content_type`). Errors: InvalidArgument (bad URL), IOError
// (connect refused, reset, malformed response), DeadlineExceeded (connect
// timeout or deadline), Corruption (response over max_response_bytes).
Result<HttpFetchResponse> HttpFetch(const std::string& base_url, const std::string& method,
                                    const std::string& path, const std::string& body,
                                    const std::string& content_type, const HttpFetchOptions& options);

}  // namespace resmeter
