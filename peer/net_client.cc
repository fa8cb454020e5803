#include "peer/net_client.h"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include "core/strings.h"
#include "peer/net_socket.h"

namespace resmeter {
namespace {

// A number as printf's %g writes it (1e-06, 0.3, 12.5).
std::string FormatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// One control connection and the state of a session, client side.
class ClientSession {
 public:
  ClientSession(const NetTargetOptions& options, std::string test, nlohmann::json params)
      : o_(options), test_(std::move(test)), params_(std::move(params)) {}

  // Now + seconds, capped by the overall deadline.
  double Deadline(double seconds) const {
    double d = MonotonicNow() + seconds;
    return o_.deadline > 0 ? std::min(d, o_.deadline) : d;
  }
  double Io() const { return Deadline(o_.io_timeout_seconds); }
  void Progress(const std::string& s) const {
    if (o_.progress) o_.progress(o_.target + ": " + s);
  }

  // Connects, sends hello and reads welcome.
  Status Open() {
    RESMETER_ASSIGN_OR_RETURN(target_, ParseHostPort(o_.target));
    RESMETER_ASSIGN_OR_RETURN(control_, ConnectTcp(target_, Io(), o_.cancel, true));
    client_nonce_ = RandomHex(16);
    nlohmann::json hello = {{"type", "hello"},
                            {"protocol", kNetProtocolVersion},
                            {"test", test_},
                            {"client_nonce", client_nonce_},
                            {"client_thumbprint", o_.signer ? o_.signer->Thumbprint() : std::string()},
                            {"params", params_}};
    RESMETER_RETURN_IF_ERROR(SendFrame(control_.fd(), hello, Io(), o_.cancel));
    RESMETER_ASSIGN_OR_RETURN(nlohmann::json w, RecvFrame(control_.fd(), Io(), o_.cancel, "welcome"));
    RESMETER_ASSIGN_OR_RETURN(int64_t protocol, GetInt(w, "protocol"));
    if (protocol != kNetProtocolVersion) return Status::Corruption("peer speaks protocol " + std::to_string(protocol));
    RESMETER_ASSIGN_OR_RETURN(session_, GetString(w, "session"));
    RESMETER_ASSIGN_OR_RETURN(server_nonce_, GetString(w, "server_nonce"));
    RESMETER_ASSIGN_OR_RETURN(peer_thumbprint_, GetString(w, "peer_thumbprint"));
    RESMETER_ASSIGN_OR_RETURN(address_seen_by_peer_, GetString(w, "client_address_seen"));
    if (server_nonce_.size() < 32 || !HexDecode(server_nonce_) || session_.size() > 128 || !HexDecode(session_)) {
      return Status::Corruption("protocol error: welcome carries a malformed nonce or session");
    }
    if (!w.contains("peer_jwk") || !w["peer_jwk"].is_object()) return Status::Corruption("protocol error: welcome lacks peer_jwk");
    peer_jwk_ = w["peer_jwk"];
    return Status::Ok();
  }

  // Opens `n` data connections for `phase` and attaches them to the session.
  Result<std::vector<Socket>> OpenData(const std::string& phase, int64_t n, int64_t socket_buffer, bool nodelay) {
    std::vector<Socket> socks;
    for (int64_t i = 0; i < n; ++i) {
      RESMETER_ASSIGN_OR_RETURN(Socket s, ConnectTcp(target_, Io(), o_.cancel, nodelay));
      RESMETER_RETURN_IF_ERROR(SendFrame(s.fd(), {{"type", "attach"}, {"session", session_}, {"phase", phase}, {"stream", i}},
                                         Io(), o_.cancel));
      RESMETER_RETURN_IF_ERROR(ConfigureDataSocket(s.fd(), socket_buffer, kPollSliceSeconds));
      socks.push_back(std::move(s));
    }
    return socks;
  }

  // Sends start and waits for started.
  Status StartPhase(const std::string& phase) {
    Progress(phase);
    RESMETER_RETURN_IF_ERROR(SendFrame(control_.fd(), {{"type", "start"}, {"phase", phase}}, Io(), o_.cancel));
    return RecvFrame(control_.fd(), Io(), o_.cancel, "started").status();
  }

  // Upload: we send, the peer counts and reports after omit + duration.
  Result<DirectionCounts> Upload(const ThroughputParams& p, ThroughputOutcome* out) {
    RESMETER_ASSIGN_OR_RETURN(std::vector<Socket> socks, OpenData("upload", p.streams, p.socket_buffer_bytes, false));
    SocketBufferSizes(socks[0].fd(), &out->sndbuf_bytes, &out->rcvbuf_bytes);
    const double phase_start = MonotonicNow();  // the peer's window cannot start before this
    RESMETER_RETURN_IF_ERROR(StartPhase("upload"));
    StreamSenders senders(&socks, p.buffer_bytes, client_nonce_ + server_nonce_ + "/upload");
    senders.Start();
    auto msg = RecvFrame(control_.fd(), Deadline(p.omit_seconds + p.duration_seconds + o_.io_timeout_seconds),
                         o_.cancel, "counts");
    const double phase_seconds = MonotonicNow() - phase_start;
    senders.Stop();
    if (!msg.ok()) {
      Status send_error = senders.error();
      return (send_error.ok() ? msg.status() : send_error).WithContext("upload");
    }
    // Everything the peer may have received was accepted by our sockets before now.
    const std::vector<uint64_t> sent = senders.SentBytes();
    DirectionCounts c;
    RESMETER_ASSIGN_OR_RETURN(c.window_seconds, GetNumber(*msg, "window_seconds"));
    RESMETER_ASSIGN_OR_RETURN(c.stream_bytes, GetCounts(*msg, "stream_bytes", static_cast<size_t>(p.streams)));
    RESMETER_RETURN_IF_ERROR(
        CheckPeerUploadCounts(c, sent, p.duration_seconds, phase_seconds).WithContext("upload"));
    for (uint64_t b : sent) out->upload_sent_bytes += b;
    return c;
  }

  // Download: the peer sends, we count and report after omit + duration.
  Result<DirectionCounts> Download(const ThroughputParams& p) {
    RESMETER_ASSIGN_OR_RETURN(std::vector<Socket> socks, OpenData("download", p.streams, p.socket_buffer_bytes, false));
    RESMETER_RETURN_IF_ERROR(StartPhase("download"));
    StreamReceivers receivers(&socks, p.buffer_bytes);
    receivers.Start();
    auto counts = receivers.MeasureWindow(p.omit_seconds, p.duration_seconds, o_.cancel);
    receivers.Stop();
    if (!counts.ok()) return counts.status().WithContext("download");
    nlohmann::json msg = {{"type", "counts"}, {"phase", "download"},
                          {"window_seconds", counts->window_seconds}, {"stream_bytes", counts->stream_bytes}};
    RESMETER_RETURN_IF_ERROR(SendFrame(control_.fd(), msg, Io(), o_.cancel));
    return counts;
  }

  // Latency: `count` timed round trips of small messages on an idle connection.
  Result<RttStats> Latency(const LatencyParams& p) {
    RESMETER_ASSIGN_OR_RETURN(std::vector<Socket> socks, OpenData("latency", 1, 0, true));
    RESMETER_RETURN_IF_ERROR(StartPhase("latency"));
    const int fd = socks[0].fd();
    PayloadGenerator gen(client_nonce_ + server_nonce_ + "/latency");
    std::string msg(static_cast<size_t>(p.message_bytes), '\0'), echo(msg.size(), '\0');
    std::vector<double> rtts;
    for (int64_t i = 0; i < p.count; ++i) {
      if (i > 0 && p.interval_seconds > 0) {
        if (o_.cancel && o_.cancel->load()) return Status::Cancelled("latency: cancelled");
        std::this_thread::sleep_for(std::chrono::duration<double>(p.interval_seconds));
      }
      gen.Fill(msg.data(), msg.size());
      const double t0 = MonotonicNow();
      RESMETER_RETURN_IF_ERROR(WriteAll(fd, msg.data(), msg.size(), Io(), o_.cancel, "latency message"));
      RESMETER_RETURN_IF_ERROR(ReadFull(fd, echo.data(), echo.size(), Io(), o_.cancel, "latency echo"));
      rtts.push_back(MonotonicNow() - t0);
      if (echo != msg) return Status::Corruption("latency: echo " + std::to_string(i) + " differs from the message sent");
    }
    ::shutdown(fd, SHUT_WR);
    socks.clear();
    RESMETER_RETURN_IF_ERROR(SendFrame(control_.fd(), {{"type", "counts"}, {"phase", "latency"}, {"count", p.count}}, Io(), o_.cancel));
    RESMETER_ASSIGN_OR_RETURN(nlohmann::json reply, RecvFrame(control_.fd(), Io(), o_.cancel, "counts"));
    RESMETER_ASSIGN_OR_RETURN(int64_t echoed, GetInt(reply, "count"));
    if (echoed != p.count) return Status::VerifyFailed("latency: peer echoed " + std::to_string(echoed) + " of " + std::to_string(p.count));
    return ComputeRttStats(std::move(rtts));
  }

  // Builds the summary skeleton both sides sign; the caller adds phase objects.
  nlohmann::json Summary() const {
    return {{"format", kNetSummaryFormat},
            {"test", test_},
            {"client_nonce", client_nonce_},
            {"server_nonce", server_nonce_},
            {"session", session_},
            {"params", params_},
            {"client", {{"thumbprint", o_.signer ? o_.signer->Thumbprint() : std::string()},
                        {"address", LocalAddress(control_.fd())},
                        {"address_seen_by_peer", address_seen_by_peer_}}},
            {"peer", {{"thumbprint", peer_thumbprint_}, {"address", RemoteAddress(control_.fd())}}}};
  }

  // Has the peer co-sign `summary`, signs it ourselves, and says goodbye.
  Result<SignedExchange> Sign(nlohmann::json summary) {
    SignedExchange ex;
    ex.canonical = CanonicalSummary(summary);
    ex.summary = std::move(summary);
    RESMETER_RETURN_IF_ERROR(SendFrame(control_.fd(), {{"type", "sign"}, {"summary", ex.summary}}, Io(), o_.cancel));
    RESMETER_ASSIGN_OR_RETURN(nlohmann::json reply, RecvFrame(control_.fd(), Io(), o_.cancel, "signature"));
    RESMETER_ASSIGN_OR_RETURN(ex.peer_jws, GetString(reply, "jws"));
    auto payload = JwsCompactPayload(ex.peer_jws);
    if (!payload.ok() || *payload != ex.canonical) {
      return Status::VerifyFailed("peer signed something other than the summary");
    }
    ex.peer_jwk = peer_jwk_;
    ex.peer_thumbprint = peer_thumbprint_;
    if (o_.signer != nullptr) {
      RESMETER_ASSIGN_OR_RETURN(ex.agent_jws, o_.signer->SignCompact(ex.canonical));
    }
    ex.local_address = LocalAddress(control_.fd());
    ex.remote_address = RemoteAddress(control_.fd());
    (void)SendFrame(control_.fd(), {{"type", "bye"}}, Io(), o_.cancel);
    return ex;
  }

  // Tells the peer why we give up (best effort).
  void Abort(const Status& why) {
    if (control_.valid()) SendErrorFrame(control_.fd(), why.message(), MonotonicNow() + 0.2);
  }

 private:
  const NetTargetOptions& o_;
  std::string test_;
  nlohmann::json params_;
  HostPort target_;
  Socket control_;
  std::string client_nonce_, server_nonce_, session_, peer_thumbprint_, address_seen_by_peer_;
  nlohmann::json peer_jwk_;
};

// Runs `body` and tells the peer when it failed.
template <typename T, typename F>
Result<T> Guarded(ClientSession& session, F body) {
  Result<T> r = body();
  if (!r.ok()) session.Abort(r.status());
  return r;
}

}  // namespace

Status CheckPeerUploadCounts(const DirectionCounts& reported, const std::vector<uint64_t>& sent_bytes,
                             double configured_window_seconds, double phase_seconds) {
  const double w = reported.window_seconds;
  const std::string claim =
      "peer reports " + std::to_string(reported.total()) + " bytes in " + FormatDouble(w) + " s";
  if (!std::isfinite(w) || w <= 0) return Status::VerifyFailed(claim + ": not a valid window");
  const double shortest = configured_window_seconds * (1.0 - kPeerWindowToleranceRatio);
  if (w < shortest) {
    return Status::VerifyFailed(claim + ": window shorter than the configured " +
                                FormatDouble(configured_window_seconds) + " s (tolerance " +
                                FormatDouble(kPeerWindowToleranceRatio * 100) + "%)");
  }
  // The same tolerance for a faster peer clock, plus scheduling slack.
  const double longest = phase_seconds * (1.0 + kPeerWindowToleranceRatio) + 0.05;
  if (w > longest) {
    return Status::VerifyFailed(claim + ": window longer than the whole phase (" +
                                FormatDouble(phase_seconds) + " s on the agent's clock)");
  }
  if (reported.stream_bytes.size() != sent_bytes.size()) {
    return Status::VerifyFailed(claim + ": " + std::to_string(reported.stream_bytes.size()) +
                                " streams, the agent sent " + std::to_string(sent_bytes.size()));
  }
  for (size_t i = 0; i < sent_bytes.size(); ++i) {
    if (reported.stream_bytes[i] > sent_bytes[i]) {
      return Status::VerifyFailed(claim + ": stream " + std::to_string(i) + " received " +
                                  std::to_string(reported.stream_bytes[i]) +
                                  " bytes but the agent sent only " + std::to_string(sent_bytes[i]));
    }
  }
  return Status::Ok();
}

nlohmann::json ThroughputParams::ToJson() const {
  return {{"streams", streams},           {"duration_seconds", duration_seconds}, {"omit_seconds", omit_seconds},
          {"buffer_bytes", buffer_bytes}, {"socket_buffer_bytes", socket_buffer_bytes}, {"phases", phases}};
}

nlohmann::json LatencyParams::ToJson() const {
  return {{"count", count}, {"message_bytes", message_bytes}, {"interval_seconds", interval_seconds}};
}

Result<ThroughputOutcome> RunThroughputSession(const NetTargetOptions& options, const ThroughputParams& params) {
  ClientSession s(options, "throughput", params.ToJson());
  return Guarded<ThroughputOutcome>(s, [&]() -> Result<ThroughputOutcome> {
    RESMETER_RETURN_IF_ERROR(s.Open());
    ThroughputOutcome out;
    nlohmann::json summary = s.Summary();
    for (const auto& phase : params.phases) {
      DirectionCounts c;
      if (phase == "upload") {
        RESMETER_ASSIGN_OR_RETURN(c, s.Upload(params, &out));
      } else {
        RESMETER_ASSIGN_OR_RETURN(c, s.Download(params));
      }
      summary[phase] = {{"window_seconds", c.window_seconds}, {"stream_bytes", c.stream_bytes},
                        {"total_bytes", c.total()}, {"counted_by", phase == "upload" ? "peer" : "client"}};
      out.phases[phase] = std::move(c);
    }
    RESMETER_ASSIGN_OR_RETURN(out.exchange, s.Sign(std::move(summary)));
    return out;
  });
}

Result<LatencyOutcome> RunLatencySession(const NetTargetOptions& options, const LatencyParams& params) {
  ClientSession s(options, "latency", params.ToJson());
  return Guarded<LatencyOutcome>(s, [&]() -> Result<LatencyOutcome> {
    RESMETER_RETURN_IF_ERROR(s.Open());
    LatencyOutcome out;
    RESMETER_ASSIGN_OR_RETURN(out.stats, s.Latency(params));
    nlohmann::json summary = s.Summary();
    summary["latency"] = {{"count", out.stats.count},
                          {"measured_by", "client"},
                          {"rtt_min_seconds", out.stats.min},
                          {"rtt_p50_seconds", out.stats.p50},
                          {"rtt_p99_seconds", out.stats.p99},
                          {"rtt_max_seconds", out.stats.max},
                          {"rtt_mean_seconds", out.stats.mean}};
    RESMETER_ASSIGN_OR_RETURN(out.exchange, s.Sign(std::move(summary)));
    return out;
  });
}

}  // namespace resmeter
