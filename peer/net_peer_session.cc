#include "peer/net_peer_session.h"

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "core/strings.h"
#include "peer/net_protocol.h"

namespace resmeter {
namespace {

// True for 32..128 lowercase/uppercase hex digits.
bool IsNonce(const std::string& s) {
  return s.size() >= 32 && s.size() <= 128 && HexDecode(s).has_value();
}

// Checks a numeric parameter in [lo, hi]; InvalidArgument naming it.
Result<double> Param(const nlohmann::json& params, const std::string& key, double lo, double hi, bool integer) {
  auto it = params.find(key);
  if (it == params.end() || !it->is_number() || (integer && !it->is_number_integer())) {
    return Status::InvalidArgument("params." + key + " missing or not " + (integer ? "an integer" : "a number"));
  }
  double v = it->get<double>();
  if (!(v >= lo && v <= hi)) {
    return Status::InvalidArgument("params." + key + "=" + it->dump() + " outside the peer's limits [" +
                                   nlohmann::json(lo).dump() + ", " + nlohmann::json(hi).dump() + "]");
  }
  return v;
}

}  // namespace

PeerSession::PeerSession(Socket control, nlohmann::json hello, const PeerServerOptions& options,
                         const Signer* signer, const std::atomic<bool>* stop)
    : control_(std::move(control)), hello_(std::move(hello)), options_(options), signer_(signer), stop_(stop) {
  session_deadline_ = MonotonicNow() + options_.session_timeout_seconds;
}

double PeerSession::IdleDeadline() const {
  return std::min(MonotonicNow() + options_.idle_timeout_seconds, session_deadline_);
}

Status PeerSession::Prepare() {
  Status st = [&]() -> Status {
    RESMETER_ASSIGN_OR_RETURN(int64_t protocol, GetInt(hello_, "protocol"));
    if (protocol != kNetProtocolVersion) {
      return Status::InvalidArgument("protocol " + std::to_string(protocol) + " not supported (want " +
                                     std::to_string(kNetProtocolVersion) + ")");
    }
    RESMETER_ASSIGN_OR_RETURN(test_, GetString(hello_, "test"));
    RESMETER_ASSIGN_OR_RETURN(client_nonce_, GetString(hello_, "client_nonce"));
    if (!IsNonce(client_nonce_)) return Status::InvalidArgument("client_nonce must be 32-128 hex digits");
    RESMETER_RETURN_IF_ERROR(GetString(hello_, "client_thumbprint").status());
    if (!hello_.contains("params") || !hello_["params"].is_object()) {
      return Status::InvalidArgument("params missing or not an object");
    }
    params_ = hello_["params"];
    if (test_ == "throughput") {
      RESMETER_ASSIGN_OR_RETURN(double streams, Param(params_, "streams", 1, options_.max_streams, true));
      RESMETER_ASSIGN_OR_RETURN(double duration, Param(params_, "duration_seconds", 0.05, options_.max_phase_seconds, false));
      RESMETER_ASSIGN_OR_RETURN(double omit, Param(params_, "omit_seconds", 0, options_.max_phase_seconds, false));
      if (omit + duration > options_.max_phase_seconds) {
        return Status::InvalidArgument("params omit_seconds + duration_seconds exceed the peer's phase limit");
      }
      RESMETER_RETURN_IF_ERROR(Param(params_, "buffer_bytes", 1024, static_cast<double>(options_.max_buffer_bytes), true).status());
      RESMETER_RETURN_IF_ERROR(Param(params_, "socket_buffer_bytes", 0, static_cast<double>(options_.max_buffer_bytes), true).status());
      streams_ = static_cast<size_t>(streams);
      auto it = params_.find("phases");
      if (it == params_.end() || !it->is_array() || it->empty() || it->size() > 2) {
        return Status::InvalidArgument("params.phases must list upload and/or download");
      }
      std::set<std::string> seen;
      for (const auto& p : *it) {
        if (!p.is_string() || (p != "upload" && p != "download") || !seen.insert(p.get<std::string>()).second) {
          return Status::InvalidArgument("params.phases must list upload and/or download once each");
        }
        phases_.push_back(p.get<std::string>());
      }
    } else if (test_ == "latency") {
      RESMETER_RETURN_IF_ERROR(Param(params_, "count", 1, static_cast<double>(options_.max_latency_count), true).status());
      RESMETER_RETURN_IF_ERROR(Param(params_, "message_bytes", 16, 65536, true).status());
      RESMETER_RETURN_IF_ERROR(Param(params_, "interval_seconds", 0, 1, false).status());
      phases_ = {"latency"};
      streams_ = 1;
    } else {
      return Status::InvalidArgument("unknown test '" + test_.substr(0, 40) + "'");
    }
    return Status::Ok();
  }();
  if (!st.ok()) {
    SendErrorFrame(control_.fd(), st.message(), IdleDeadline());
    return st;
  }
  server_nonce_ = RandomHex(16);
  session_id_ = RandomHex(16);
  client_address_ = RemoteAddress(control_.fd());
  for (const auto& p : phases_) data_[p].resize(streams_);
  return Status::Ok();
}

bool PeerSession::Attach(const std::string& phase, int64_t stream, Socket socket) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = data_.find(phase);
  if (it == data_.end() || stream < 0 || static_cast<size_t>(stream) >= it->second.size() ||
      it->second[static_cast<size_t>(stream)].valid() || closed_.count(phase) != 0) {
    return false;
  }
  it->second[static_cast<size_t>(stream)] = std::move(socket);
  cv_.notify_all();
  return true;
}

Status PeerSession::WaitForStreams(const std::string& phase, size_t want, double deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto& v = data_[phase];
    size_t have = static_cast<size_t>(std::count_if(v.begin(), v.end(), [](const Socket& s) { return s.valid(); }));
    if (have == want) {
      closed_.insert(phase);  // from here on only the session thread touches data_[phase]
      return Status::Ok();
    }
    if (stop_->load()) return Status::Cancelled("peer is stopping");
    if (MonotonicNow() >= deadline) {
      return Status::DeadlineExceeded(std::to_string(have) + " of " + std::to_string(want) +
                                      " data connections for " + phase + " arrived in time");
    }
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

Status PeerSession::Run() {
  const int fd = control_.fd();
  nlohmann::json welcome = {{"type", "welcome"},          {"protocol", kNetProtocolVersion},
                            {"session", session_id_},     {"server_nonce", server_nonce_},
                            {"peer_jwk", signer_->PublicJwk()}, {"peer_thumbprint", signer_->Thumbprint()},
                            {"client_address_seen", client_address_}};
  RESMETER_RETURN_IF_ERROR(SendFrame(fd, welcome, IdleDeadline(), stop_));
  for (;;) {
    auto next = RecvFrame(fd, IdleDeadline(), stop_, "");
    if (!next.ok()) {
      // Once the summary is co-signed the session has done its work; bye is a courtesy.
      return results_.count("signed") ? Status::Ok() : next.status();
    }
    const nlohmann::json& msg = *next;
    const std::string type = msg["type"].get<std::string>();
    Status st;
    if (type == "start") {
      auto phase = GetString(msg, "phase");
      if (!phase.ok()) return phase.status();
      if (std::find(phases_.begin(), phases_.end(), *phase) == phases_.end() || results_.count(*phase) != 0) {
        st = Status::InvalidArgument("phase '" + phase->substr(0, 20) + "' not planned or already done");
      } else {
        st = WaitForStreams(*phase, streams_, IdleDeadline());
        if (st.ok()) st = SendFrame(fd, {{"type", "started"}, {"phase", *phase}}, IdleDeadline(), stop_);
        if (st.ok()) st = *phase == "upload" ? RunUpload() : *phase == "download" ? RunDownload() : RunLatency();
      }
    } else if (type == "sign") {
      st = SignSummary(msg);
    } else if (type == "bye") {
      return results_.count("signed") ? Status::Ok() : Status::Cancelled("client left before signing");
    } else {
      st = Status::InvalidArgument("unexpected '" + type.substr(0, 20) + "' frame");
    }
    if (!st.ok()) {
      SendErrorFrame(fd, st.message(), IdleDeadline());
      return st;
    }
  }
}

Status PeerSession::RunUpload() {
  std::vector<Socket>& socks = data_["upload"];
  const int64_t buffer = params_["buffer_bytes"].get<int64_t>();
  for (auto& s : socks) RESMETER_RETURN_IF_ERROR(ConfigureDataSocket(s.fd(), params_["socket_buffer_bytes"].get<int64_t>(), kPollSliceSeconds));
  StreamReceivers receivers(&socks, buffer);
  receivers.Start();
  auto counts = receivers.MeasureWindow(params_["omit_seconds"].get<double>(),
                                        params_["duration_seconds"].get<double>(), stop_);
  receivers.Stop();
  if (!counts.ok()) return counts.status().WithContext("upload");
  nlohmann::json seen = {{"window_seconds", counts->window_seconds}, {"stream_bytes", counts->stream_bytes}};
  results_["upload"] = seen;
  nlohmann::json reply = seen;
  reply["type"] = "counts";
  reply["phase"] = "upload";
  return SendFrame(control_.fd(), reply, IdleDeadline(), stop_);
}

Status PeerSession::RunDownload() {
  std::vector<Socket>& socks = data_["download"];
  for (auto& s : socks) RESMETER_RETURN_IF_ERROR(ConfigureDataSocket(s.fd(), params_["socket_buffer_bytes"].get<int64_t>(), kPollSliceSeconds));
  StreamSenders senders(&socks, params_["buffer_bytes"].get<int64_t>(), server_nonce_ + client_nonce_ + "/download");
  senders.Start();
  const double phase = params_["omit_seconds"].get<double>() + params_["duration_seconds"].get<double>();
  double deadline = std::min(MonotonicNow() + phase + options_.idle_timeout_seconds, session_deadline_);
  auto msg = RecvFrame(control_.fd(), deadline, stop_, "counts");
  senders.Stop();
  if (!msg.ok()) return msg.status().WithContext("download");
  RESMETER_ASSIGN_OR_RETURN(double window, GetNumber(*msg, "window_seconds"));
  RESMETER_ASSIGN_OR_RETURN(auto bytes, GetCounts(*msg, "stream_bytes", streams_));
  results_["download"] = {{"window_seconds", window}, {"stream_bytes", bytes}};
  return Status::Ok();
}

Status PeerSession::RunLatency() {
  Socket& sock = data_["latency"][0];
  const size_t size = static_cast<size_t>(params_["message_bytes"].get<int64_t>());
  const int64_t count = params_["count"].get<int64_t>();
  std::string buf(size, '\0');
  int64_t echoed = 0;
  // Echo until the client closes the data connection (EOF) after its last message.
  for (;;) {
    if (echoed > count) return Status::InvalidArgument("latency: client sent more messages than planned");
    Status st = ReadFull(sock.fd(), buf.data(), 1, IdleDeadline(), stop_, "latency message");
    if (!st.ok() && st.code() == Status::Code::kIOError && echoed == count) break;  // clean EOF
    if (!st.ok()) return st.WithContext("latency");
    RESMETER_RETURN_IF_ERROR(ReadFull(sock.fd(), buf.data() + 1, size - 1, IdleDeadline(), stop_, "latency message"));
    RESMETER_RETURN_IF_ERROR(WriteAll(sock.fd(), buf.data(), size, IdleDeadline(), stop_, "latency echo"));
    ++echoed;
  }
  RESMETER_ASSIGN_OR_RETURN(nlohmann::json msg, RecvFrame(control_.fd(), IdleDeadline(), stop_, "counts"));
  RESMETER_ASSIGN_OR_RETURN(int64_t claimed, GetInt(msg, "count"));
  if (claimed != echoed) {
    return Status::VerifyFailed("latency: client counts " + std::to_string(claimed) + " messages, peer echoed " +
                                std::to_string(echoed));
  }
  results_["latency"] = {{"count", echoed}};
  return SendFrame(control_.fd(), {{"type", "counts"}, {"phase", "latency"}, {"count", echoed}}, IdleDeadline(), stop_);
}

Status PeerSession::SignSummary(const nlohmann::json& msg) {
  for (const auto& p : phases_) {
    if (results_.count(p) == 0) return Status::InvalidArgument("sign before phase " + p + " ran");
  }
  if (!msg.contains("summary") || !msg["summary"].is_object()) return Status::Corruption("sign: summary missing");
  const nlohmann::json& s = msg["summary"];
  auto mismatch = [](const std::string& what) { return Status::VerifyFailed("summary disagrees with the peer: " + what); };
  std::set<std::string> allowed = {"format", "test", "client_nonce", "server_nonce", "session", "params", "client", "peer"};
  for (const auto& p : phases_) allowed.insert(p);
  for (const auto& [k, v] : s.items()) {
    if (allowed.count(k) == 0) return mismatch("unexpected key '" + k.substr(0, 40) + "'");
  }
  if (s.value("format", "") != kNetSummaryFormat) return mismatch("format");
  if (s.value("test", "") != test_) return mismatch("test");
  if (s.value("client_nonce", "") != client_nonce_ || s.value("server_nonce", "") != server_nonce_) return mismatch("nonces");
  if (s.value("session", "") != session_id_) return mismatch("session");
  if (!s.contains("params") || s["params"] != params_) return mismatch("params");
  const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json& peer = s.contains("peer") && s["peer"].is_object() ? s["peer"] : empty;
  const nlohmann::json& client = s.contains("client") && s["client"].is_object() ? s["client"] : empty;
  if (peer.value("thumbprint", "") != signer_->Thumbprint()) return mismatch("peer.thumbprint");
  if (client.value("thumbprint", "") != hello_["client_thumbprint"]) return mismatch("client.thumbprint");
  if (client.value("address_seen_by_peer", "") != client_address_) return mismatch("client.address_seen_by_peer");
  for (const auto& p : phases_) {
    if (!s[p].is_object()) return mismatch(p);
    for (const auto& [k, v] : results_[p].items()) {
      if (!s[p].contains(k) || s[p][k] != v) return mismatch(p + "." + k);
    }
  }
  std::string jws;
  {
    auto signed_jws = signer_->SignCompact(CanonicalSummary(s));
    if (!signed_jws.ok()) return signed_jws.status().WithContext("peer signing");
    jws = *signed_jws;
  }
  results_["signed"] = true;
  return SendFrame(control_.fd(), {{"type", "signature"}, {"jws", jws}}, IdleDeadline(), stop_);
}

}  // namespace resmeter
