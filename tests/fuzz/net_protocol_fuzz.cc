// libFuzzer target: the network measurement protocol's control frames as a
// hostile peer or client sends them: framing (RecvFrame over a socket pair),
// typed field access, JWS payload extraction, and the responder's hello
// validation (PeerSession::Prepare). Must never crash, throw or block.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "peer/net_peer_session.h"
#include "peer/net_protocol.h"
#include "peer/net_socket.h"

namespace {

// Every typed accessor on a field the protocol reads.
void Fields(const nlohmann::json& msg) {
  for (const char* key : {"phase", "session", "jws", "message", "test", "client_nonce"}) {
    auto s = resmeter::GetString(msg, key);
    if (s.ok()) (void)resmeter::JwsCompactPayload(*s);
  }
  for (const char* key : {"stream", "protocol", "count"}) (void)resmeter::GetInt(msg, key);
  (void)resmeter::GetNumber(msg, "window_seconds");
  for (size_t want : {size_t{1}, size_t{4}}) (void)resmeter::GetCounts(msg, "stream_bytes", want);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  resmeter::Socket reader(fds[0]), writer(fds[1]);
  // Inputs are bounded by -max_len, far below the socket buffer: no blocking.
  if (size > 0 && ::send(writer.fd(), data, size, MSG_NOSIGNAL) != static_cast<ssize_t>(size)) return 0;
  ::shutdown(writer.fd(), SHUT_WR);

  static const std::atomic<bool> stop{false};
  for (int i = 0; i < 16; ++i) {
    auto msg = resmeter::RecvFrame(reader.fd(), resmeter::MonotonicNow() + 1, &stop, "");
    if (!msg.ok()) break;
    Fields(*msg);
    if (msg->value("type", nlohmann::json()) == "hello") {
      int control[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) != 0) break;
      resmeter::Socket client(control[1]);  // receives the error frame, if any
      resmeter::PeerServerOptions options;
      options.idle_timeout_seconds = 1;
      resmeter::PeerSession session(resmeter::Socket(control[0]), *msg, options, nullptr, &stop);
      (void)session.Prepare();
    }
  }
  return 0;
}
