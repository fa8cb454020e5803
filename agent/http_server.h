// HttpServer: the agent's one HTTP/1.1 server (civetweb), serving /metrics
// and the API under /v1/ on one listen address.
//
// prometheus-cpp's Exposer is not used: it adds its own exposer_* series
// (outside the resmeter_ prefix) and does not let other handlers share its
// server. Instead this server hands every request to one handler function;
// the Prometheus text comes from prometheus-cpp's core registry and
// serializer (agent/metrics_exporter.h).
//
// Bounds: request line plus headers (max_header_bytes, civetweb's
// max_request_size), body (max_body_bytes: a larger Content-Length is
// answered 413 without reading it), and request_timeout_seconds for each
// network read or write, so a slow client cannot hold a worker for long.
// civetweb's own errors (malformed requests, oversized headers) are answered
// as JSON too. At most `threads` requests are served at once.
//
// Thread-safety: the handler runs on civetweb worker threads, several at a
// time; Start and Stop must be called from one thread.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

struct mg_context;
struct mg_connection;

namespace resmeter {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path without the query
  std::string query;   // raw query string, without '?'
  std::string body;
  bool body_too_large = false;  // the body exceeded max_body_bytes and was not read
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// A JSON error response: {"error": {"code": status, "message": message}}.
HttpResponse JsonError(int status, const std::string& message);
// The reason phrase of a status code ("Not Found").
const char* HttpReason(int status);

struct HttpServerOptions {
  std::string listen = "127.0.0.1:9464";  // host:port; port 0 picks a free one
  int threads = 4;
  size_t max_body_bytes = 4096;
  size_t max_header_bytes = 8192;
  double request_timeout_seconds = 10;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  HttpServer() = default;
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Starts listening. InvalidArgument for a malformed address, IOError when
  // it cannot bind (the message names the address).
  Status Start(const HttpServerOptions& options, Handler handler);
  // Stops accepting, finishes requests in flight and joins the workers. Idempotent.
  void Stop();
  // The port bound (useful with port 0); 0 before Start.
  int port() const { return port_; }

 private:
  static int OnRequest(mg_connection* conn, void* self);
  static int OnHttpError(mg_connection* conn, int status, const char* message);
  // Writes a response with Content-Length; closes the connection when asked.
  static void Send(mg_connection* conn, const HttpResponse& response, bool close);

  mg_context* ctx_ = nullptr;
  Handler handler_;
  HttpServerOptions options_;
  int port_ = 0;
};

}  // namespace resmeter
