// HttpServer: the agent's one HTTP/1.1 server (civetweb), serving /metrics
// and the API under /v1/ on one listen address, optionally over TLS with
// basic authentication (agent/web_config.h).
//
// prometheus-cpp's Exposer is not used: it adds its own exposer_* series
// (outside the resmeter_ prefix) and does not let other handlers share its
// server. Instead this server hands every request to one handler function;
// the Prometheus text comes from prometheus-cpp's core registry and
// serializer (agent/metrics_exporter.h).
//
// Bounds against hostile clients: request line plus headers
// (max_header_bytes, civetweb's max_request_size); body (max_body_bytes: a
// larger Content-Length is answered 413 without reading it); a whole-request
// deadline (request_deadline_seconds: civetweb gives up on headers that are
// not complete by then, and the body must be complete by then too, counted
// from the connection's start or the previous response); each network read
// or write waits at most min(request_timeout_seconds, deadline); at most
// max_connections_per_client open connections per remote address (more are
// shut down at once, agent/client_connection_cap.h); a bounded accept queue
// (listen_backlog). civetweb's own errors (malformed requests, oversized
// headers) are answered as JSON too. At most `threads` requests are served
// at once.
//
// With a web config: TLS (certificate and key re-read when they change),
// client certificates, and basic auth on the configured paths (401 with
// WWW-Authenticate otherwise). "/" (a landing page) and "/healthz" ("ok")
// are answered by the server itself.
//
// Thread-safety: the handler runs on civetweb worker threads, several at a
// time; Start and Stop must be called from one thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/client_connection_cap.h"
#include "agent/web_config.h"
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
  std::string remote_addr;      // the client's IP address
  std::string user;             // the basic-auth user when the request carried a valid one
  std::string accept;           // the Accept header ("" when absent): /metrics picks its format
  std::string accept_encoding;  // the Accept-Encoding header: /metrics is gzipped when it allows
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
  std::string listen = "127.0.0.1:10217";  // host:port; port 0 picks a free one
  int threads = 4;
  size_t max_body_bytes = 4096;
  size_t max_header_bytes = 8192;
  double request_timeout_seconds = 10;  // each read or write
  double request_deadline_seconds = 5;  // the whole request (headers and body)
  // Per remote address. 0: no cap, for the test fleet simulator only: it
  // serves 1,000 agents from one process whose thousands of open ledger
  // files would make every scan of /proc/self/fd (one per new connection)
  // its bottleneck; the agent's config allows 1 .. 1024.
  size_t max_connections_per_client = 2;
  int listen_backlog = 64;      // TCP accept queue
  std::string web_config_file;  // empty: plain HTTP, no auth
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  HttpServer() = default;
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Starts listening. InvalidArgument for a malformed address or web config
  // (FILE:LINE: ...), IOError when it cannot bind (the message names the address).
  Status Start(const HttpServerOptions& options, Handler handler);
  // Stops accepting, finishes requests in flight and joins the workers. Idempotent.
  void Stop();
  // The port bound (useful with port 0); 0 before Start.
  int port() const { return port_; }
  // True when serving HTTPS.
  bool tls() const { return tls_; }

 private:
  static int OnRequest(mg_connection* conn, void* self);
  static int OnHttpError(mg_connection* conn, int status, const char* message);
  static int OnInitConnection(const mg_connection* conn, void** conn_data);
  static void OnConnectionClosed(const mg_connection* conn);
  static int OnInitSsl(void* ssl_ctx, void* self);
  // Checks basic auth for `path` when the web config asks for it; sets *user.
  // Returns the 401 response to send, or nullptr-equivalent status 0 when allowed.
  HttpResponse Authorize(mg_connection* conn, const std::string& path, std::string* user);
  // Writes a response with Content-Length; closes the connection when asked.
  static void Send(mg_connection* conn, const HttpResponse& response, bool close);

  mg_context* ctx_ = nullptr;
  Handler handler_;
  HttpServerOptions options_;
  int port_ = 0;
  bool tls_ = false;
  std::unique_ptr<WebConfigWatcher> web_config_;         // null: no web config
  std::atomic<ClientConnectionCap*> conn_cap_{nullptr};  // set once the port is known
  std::unique_ptr<ClientConnectionCap> conn_cap_owner_;
  std::string tls_files_at_start_;  // TlsFilesFingerprint when the SSL_CTX was set up
};

}  // namespace resmeter
