// TestHttpServer: a minimal HTTP/1.0 server on 127.0.0.1 (an ephemeral port)
// for tests of HTTP clients, e.g. a TSA front end. Each POST body goes to a
// handler that returns the reply; the handler may also ask the server to
// wait before answering or to close without answering (a slow or dead
// server). One connection at a time, on one thread. Test support only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace resmeter {

struct TestHttpReply {
  int status = 200;
  std::string content_type = "application/timestamp-reply";
  std::string body = "";
  double delay_seconds = 0;  // wait this long before answering (interruptible by Stop)
  bool hang_up = false;      // close the connection without a reply
};

class TestHttpServer {
 public:
  using Handler = std::function<TestHttpReply(const std::string& body)>;

  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestHttpServer() { Stop(); }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  void Stop() {
    if (stop_.exchange(true)) return;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  std::string Url(const std::string& path = "/tsa") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests() const { return requests_.load(); }

 private:
  // Waits up to `seconds` for `fd` to be readable, giving up early when stopped.
  bool WaitReadable(int fd, double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) return true;
    }
    return false;
  }
  void Sleep(double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  void Serve() {
    while (!stop_) {
      if (!WaitReadable(fd_, 0.1)) continue;
      int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      Handle(conn);
      ::close(conn);
    }
  }

  void Handle(int conn) {
    std::string in;
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    char buf[4096];
    while (!stop_ && in.size() < (1u << 20)) {
      if (header_end != std::string::npos && in.size() >= header_end + 4 + content_length) break;
      if (!WaitReadable(conn, 5)) return;
      ssize_t n = ::read(conn, buf, sizeof buf);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos && (header_end = in.find("\r\n\r\n")) != std::string::npos) {
        std::string headers = in.substr(0, header_end);
        for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t at = headers.find("content-length:");
        if (at != std::string::npos) content_length = std::stoul(headers.substr(at + 15));
      }
    }
    if (header_end == std::string::npos) return;
    ++requests_;
    TestHttpReply reply = handler_(in.substr(header_end + 4, content_length));
    Sleep(reply.delay_seconds);
    if (reply.hang_up || stop_) return;
    std::string out = "HTTP/1.0 " + std::to_string(reply.status) +
                      " X\r\nContent-Type: " + reply.content_type +
                      "\r\nContent-Length: " + std::to_string(reply.body.size()) +
                      "\r\nConnection: close\r\n\r\n" + reply.body;
    size_t sent = 0;
    while (sent < out.size()) {
      ssize_t n = ::send(conn, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace resmeter
