#include "agent/http_server.h"

#include <civetweb.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "agent/civetweb_openssl3.h"
#include "core/strings.h"

namespace resmeter {

const char* HttpReason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return status < 400 ? "OK" : (status < 500 ? "Client Error" : "Server Error");
  }
}

HttpResponse JsonError(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  nlohmann::json body = {{"error", {{"code", status}, {"message", message}}}};
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return r;
}

namespace {

double MonotonicSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// Per-connection state (civetweb's user connection data).
struct ConnState {
  double request_start_seconds;  // monotonic: connection start, then the end of each response
};

// Paths and mtimes of the TLS files of `config`: a change means re-reading them.
std::string TlsFilesFingerprint(const WebConfig* config) {
  if (!config || !config->tls) return "";
  std::string out;
  for (const std::string* f : {&config->tls->cert_file, &config->tls->key_file}) {
    struct stat st;
    out += *f + "@";
    if (::stat(f->c_str(), &st) == 0)
      out += std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    out += ";";
  }
  return out;
}

// Decodes standard base64 (RFC 4648 section 4, padded), or nullopt.
std::optional<std::string> Base64Decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  if (in.back() == '=') --len;
  if (in[in.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

// "5" or "2.5".
std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

constexpr const char* kLandingPage =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>resmeter</title></head><body>\n"
    "<h1>resmeter agent</h1>\n<ul>\n"
    "<li><a href=\"/metrics\">/metrics</a>: Prometheus metrics</li>\n"
    "<li><a href=\"/v1/identity\">/v1/identity</a>: the agent's key and evidence</li>\n"
    "<li><a href=\"/v1/report/latest\">/v1/report/latest</a>: the latest signed report (JWS)</li>\n"
    "<li>POST /v1/attest: a fresh report bound to your nonce</li>\n"
    "<li><a href=\"/v1/ledger\">/v1/ledger</a>: the usage ledger (JSON Lines)</li>\n"
    "<li><a href=\"/healthz\">/healthz</a>: liveness</li>\n"
    "</ul>\n</body></html>\n";

}  // namespace

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start(const HttpServerOptions& options, Handler handler) {
  if (ctx_) return Status::InvalidArgument("HTTP server already started");
  const std::string& listen = options.listen;
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size() ||
      listen.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return Status::InvalidArgument("agent.listen '" + listen + "': expected HOST:PORT, e.g. 127.0.0.1:10217");
  }
  options_ = options;
  handler_ = std::move(handler);
  web_config_.reset();
  tls_ = false;
  if (!options.web_config_file.empty()) {
    auto w = WebConfigWatcher::Open(options.web_config_file);
    if (!w.ok()) return Status::InvalidArgument(w.status().message());
    web_config_ = std::move(*w);
    auto current = web_config_->Current();
    tls_ = current->tls.has_value();
    tls_files_at_start_ = TlsFilesFingerprint(current.get());
  }
  if (tls_) {
    mg_init_library(MG_FEATURES_TLS);  // 1.15 answers 0 even on success: the shim checks instead
    Status shim = PatchCivetwebForOpenSsl3();
    if (!shim.ok()) {
      mg_exit_library();
      return shim;
    }
  } else {
    mg_init_library(0);
  }

  const std::string threads = std::to_string(options.threads);
  // Headers must be complete within the deadline (civetweb counts it from the
  // request's start); each body read or response write waits at most this too.
  const double io_seconds = std::min(options.request_timeout_seconds, options.request_deadline_seconds);
  const std::string timeout_ms = std::to_string(static_cast<long>(io_seconds * 1000));
  const std::string keep_alive_ms = std::to_string(static_cast<long>(options.request_timeout_seconds * 1000));
  const std::string header_bytes = std::to_string(options.max_header_bytes);
  const std::string backlog = std::to_string(options.listen_backlog);
  const std::string ports = tls_ ? listen + "s" : listen;
  const char* opts[] = {"listening_ports",
                        ports.c_str(),
                        "num_threads",
                        threads.c_str(),
                        "request_timeout_ms",
                        timeout_ms.c_str(),
                        "keep_alive_timeout_ms",
                        keep_alive_ms.c_str(),
                        "enable_keep_alive",
                        "yes",
                        "max_request_size",
                        header_bytes.c_str(),
                        "enable_directory_listing",
                        "no",
                        "listen_backlog",
                        backlog.c_str(),
                        "connection_queue",
                        backlog.c_str(),
                        "tcp_nodelay",
                        "1",  // headers and body are two writes: no Nagle delay
                        nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof callbacks);
  callbacks.http_error = &HttpServer::OnHttpError;
  callbacks.init_connection = &HttpServer::OnInitConnection;
  callbacks.connection_closed = &HttpServer::OnConnectionClosed;
  if (tls_) callbacks.init_ssl = &HttpServer::OnInitSsl;
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };  // quiet: we log ourselves
  ctx_ = mg_start(&callbacks, this, opts);
  if (!ctx_) {
    mg_exit_library();
    return Status::IOError("cannot listen on " + listen + (tls_ ? " with TLS" : "") +
                           " (address in use or not local?)");
  }
  mg_set_request_handler(ctx_, "/", &HttpServer::OnRequest, this);
  mg_server_port server_ports[4];
  std::memset(server_ports, 0, sizeof server_ports);
  const int n = mg_get_server_ports(ctx_, 4, server_ports);
  port_ = n > 0 ? server_ports[0].port : 0;
  if (options.max_connections_per_client > 0) {
    conn_cap_owner_ = std::make_unique<ClientConnectionCap>(port_, options.max_connections_per_client);
    conn_cap_.store(conn_cap_owner_.get());
  }
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!ctx_) return;
  mg_stop(ctx_);
  ctx_ = nullptr;
  conn_cap_.store(nullptr);
  conn_cap_owner_.reset();
  mg_exit_library();
}

int HttpServer::OnInitConnection(const mg_connection* conn, void** conn_data) {
  auto* self = static_cast<HttpServer*>(mg_get_user_data(mg_get_context(conn)));
  *conn_data = new ConnState{MonotonicSeconds()};
  // A worker just took a new connection: shut down what is over the per-client cap first.
  if (ClientConnectionCap* cap = self->conn_cap_.load()) cap->Enforce();
  return 0;
}

void HttpServer::OnConnectionClosed(const mg_connection* conn) {
  delete static_cast<ConnState*>(mg_get_user_connection_data(conn));
}

int HttpServer::OnInitSsl(void* ssl_ctx, void* self_ptr) {
  auto* self = static_cast<HttpServer*>(self_ptr);
  auto config = self->web_config_->Current();
  if (!config->tls || !ConfigureTlsContext(ssl_ctx, *config->tls).ok()) return -1;
  // Per handshake: once the certificate or key file changed, serve the new ones.
  SSL_CTX_set_cert_cb(
      static_cast<SSL_CTX*>(ssl_ctx),
      [](SSL* ssl, void* arg) -> int {
        auto* server = static_cast<HttpServer*>(arg);
        auto current = server->web_config_->Current();
        const std::string fp = TlsFilesFingerprint(current.get());
        if (!current->tls || fp == server->tls_files_at_start_) return 1;
        if (SSL_use_certificate_chain_file(ssl, current->tls->cert_file.c_str()) != 1 ||
            SSL_use_PrivateKey_file(ssl, current->tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
            SSL_check_private_key(ssl) != 1) {
          ERR_clear_error();
          return 1;  // a half-written new pair: keep serving the one loaded at start
        }
        return 1;
      },
      self);
  return 1;
}

HttpResponse HttpServer::Authorize(mg_connection* conn, const std::string& path, std::string* user) {
  HttpResponse allowed;
  allowed.status = 0;
  if (!web_config_) return allowed;
  auto config = web_config_->Current();
  if (!config->RequiresAuth(path)) return allowed;
  HttpResponse denied = JsonError(401, "authentication required (HTTP basic auth)");
  denied.headers.emplace_back("WWW-Authenticate", "Basic realm=\"resmeter\", charset=\"UTF-8\"");
  const char* header = mg_get_header(conn, "Authorization");
  if (!header) return denied;
  std::string_view h = Trim(header);
  if (h.size() < 6 || strncasecmp(h.data(), "Basic ", 6) != 0) return denied;
  auto decoded = Base64Decode(Trim(h.substr(6)));
  if (!decoded) return denied;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return denied;
  const std::string name = decoded->substr(0, colon);
  const std::string password = decoded->substr(colon + 1);
  if (!web_config_->Authenticate(*config, name, password)) {
    denied.body = JsonError(401, "wrong user name or password").body;
    return denied;
  }
  *user = name;
  return allowed;
}

void HttpServer::Send(mg_connection* conn, const HttpResponse& response, bool close) {
  mg_response_header_start(conn, response.status);
  mg_response_header_add(conn, "Content-Type", response.content_type.c_str(), -1);
  const std::string length = std::to_string(response.body.size());
  mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
  mg_response_header_add(conn, "Cache-Control", "no-store", -1);
  mg_response_header_add(conn, "X-Content-Type-Options", "nosniff", -1);
  for (const auto& [name, value] : response.headers)
    mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
  if (close) mg_response_header_add(conn, "Connection", "close", -1);
  mg_response_header_send(conn);
  if (!response.body.empty()) mg_write(conn, response.body.data(), response.body.size());
}

int HttpServer::OnRequest(mg_connection* conn, void* self_ptr) {
  auto* self = static_cast<HttpServer*>(self_ptr);
  const mg_request_info* info = mg_get_request_info(conn);
  auto* state = static_cast<ConnState*>(mg_get_user_connection_data(conn));
  const double start = state ? state->request_start_seconds : MonotonicSeconds();
  HttpRequest req;
  req.method = info->request_method ? info->request_method : "";
  req.path = info->local_uri ? info->local_uri : "";
  req.query = info->query_string ? info->query_string : "";
  req.remote_addr = info->remote_addr;
  if (const char* h = mg_get_header(conn, "Accept")) req.accept = h;
  if (const char* h = mg_get_header(conn, "Accept-Encoding")) req.accept_encoding = h;
  const bool has_body = info->content_length != 0 && req.method != "GET" && req.method != "HEAD";
  auto finish = [&](const HttpResponse& resp, bool close) {
    Send(conn, resp, close);
    // civetweb would keep reading (draining) an unread body before closing:
    // end the connection now so a trickling client holds no worker.
    ClientConnectionCap* cap = self->conn_cap_.load();
    if (close && cap) cap->ShutdownPeer(req.remote_addr, info->remote_port);
    if (state) state->request_start_seconds = MonotonicSeconds();  // the next request's clock starts now
    return resp.status;
  };

  // Authentication before anything is read or answered; an unread body means closing.
  HttpResponse denied = self->Authorize(conn, req.path, &req.user);
  if (denied.status != 0) return finish(denied, has_body);

  if (req.path == "/healthz" || req.path == "/") {
    HttpResponse r;
    if (req.method != "GET" && req.method != "HEAD") {
      r = JsonError(405, "method not allowed; use GET");
      r.headers.emplace_back("Allow", "GET");
    } else if (req.path == "/healthz") {
      r.content_type = "text/plain; charset=utf-8";
      r.body = "ok\n";
    } else {
      r.content_type = "text/html; charset=utf-8";
      r.body = kLandingPage;
    }
    return finish(r, has_body);
  }

  // The body: refuse a declared length over the bound without reading it;
  // read at most one byte more than the bound otherwise (chunked bodies), and
  // only until the whole-request deadline.
  const size_t max_body = self->options_.max_body_bytes;
  bool close = false;
  if (info->content_length > 0 && static_cast<size_t>(info->content_length) > max_body) {
    req.body_too_large = true;
    close = true;  // the unread body must not be parsed as the next request
  } else if (has_body) {
    // One byte per mg_read: civetweb's mg_read waits until the whole count
    // arrives (the timeout is per packet), so a larger count would let a
    // trickling client stretch one call far past the deadline. Bodies are small.
    char buf[1];
    for (;;) {
      if (MonotonicSeconds() - start > self->options_.request_deadline_seconds) {
        return finish(
            JsonError(408, "request not complete within " + Seconds(self->options_.request_deadline_seconds) +
                               " s (agent.http_request_deadline_seconds)"),
            true);
      }
      int n = mg_read(conn, buf, sizeof buf);
      if (n <= 0) break;
      if (req.body.size() + static_cast<size_t>(n) > max_body) {
        req.body_too_large = true;
        req.body.clear();
        close = true;
        break;
      }
      req.body.append(buf, static_cast<size_t>(n));
    }
    if (MonotonicSeconds() - start > self->options_.request_deadline_seconds) {
      return finish(
          JsonError(408, "request not complete within " + Seconds(self->options_.request_deadline_seconds) +
                             " s (agent.http_request_deadline_seconds)"),
          true);
    }
  }

  HttpResponse resp;
  try {
    resp = self->handler_(req);
  } catch (const std::exception& e) {
    resp = JsonError(500, std::string("internal error: ") + e.what());
  }
  return finish(resp, close);
}

int HttpServer::OnHttpError(mg_connection* conn, int status, const char* message) {
  // civetweb's own errors (bad request line, headers too large, ...) as JSON.
  // Written raw: the connection may not have reached the request state.
  const HttpResponse r = JsonError(status, message && *message ? message : HttpReason(status));
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            status, HttpReason(status), r.body.size());
  mg_write(conn, r.body.data(), r.body.size());
  return 0;
}

}  // namespace resmeter
