#include "agent/http_server.h"

#include <civetweb.h>

#include <cstring>
#include <nlohmann/json.hpp>

namespace resmeter {

const char* HttpReason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
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

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start(const HttpServerOptions& options, Handler handler) {
  if (ctx_) return Status::InvalidArgument("HTTP server already started");
  const std::string& listen = options.listen;
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size() ||
      listen.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return Status::InvalidArgument("agent.listen '" + listen + "': expected HOST:PORT, e.g. 127.0.0.1:9464");
  }
  options_ = options;
  handler_ = std::move(handler);
  mg_init_library(0);

  const std::string threads = std::to_string(options.threads);
  const std::string timeout_ms = std::to_string(static_cast<long>(options.request_timeout_seconds * 1000));
  const std::string header_bytes = std::to_string(options.max_header_bytes);
  const char* opts[] = {"listening_ports",
                        listen.c_str(),
                        "num_threads",
                        threads.c_str(),
                        "request_timeout_ms",
                        timeout_ms.c_str(),
                        "keep_alive_timeout_ms",
                        timeout_ms.c_str(),
                        "enable_keep_alive",
                        "yes",
                        "max_request_size",
                        header_bytes.c_str(),
                        "enable_directory_listing",
                        "no",
                        "tcp_nodelay",
                        "1",  // headers and body are two writes: no Nagle delay
                        nullptr};
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof callbacks);
  callbacks.http_error = &HttpServer::OnHttpError;
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };  // quiet: we log ourselves
  ctx_ = mg_start(&callbacks, this, opts);
  if (!ctx_) {
    mg_exit_library();
    return Status::IOError("cannot listen on " + listen + " (address in use or not local?)");
  }
  mg_set_request_handler(ctx_, "/", &HttpServer::OnRequest, this);
  mg_server_port ports[4];
  std::memset(ports, 0, sizeof ports);
  const int n = mg_get_server_ports(ctx_, 4, ports);
  port_ = n > 0 ? ports[0].port : 0;
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!ctx_) return;
  mg_stop(ctx_);
  ctx_ = nullptr;
  mg_exit_library();
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
  HttpRequest req;
  req.method = info->request_method ? info->request_method : "";
  req.path = info->local_uri ? info->local_uri : "";
  req.query = info->query_string ? info->query_string : "";

  // The body: refuse a declared length over the bound without reading it;
  // read at most one byte more than the bound otherwise (chunked bodies).
  const size_t max_body = self->options_.max_body_bytes;
  bool close = false;
  if (info->content_length > 0 && static_cast<size_t>(info->content_length) > max_body) {
    req.body_too_large = true;
    close = true;  // the unread body must not be parsed as the next request
  } else if (info->content_length != 0 && req.method != "GET" && req.method != "HEAD") {
    char buf[4096];
    for (;;) {
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
  }

  HttpResponse resp;
  try {
    resp = self->handler_(req);
  } catch (const std::exception& e) {
    resp = JsonError(500, std::string("internal error: ") + e.what());
  }
  Send(conn, resp, close);
  return resp.status;
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
