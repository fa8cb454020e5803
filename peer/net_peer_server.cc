#include "peer/net_peer_server.h"

#include <poll.h>
#include <sys/socket.h>

#include "peer/net_protocol.h"

namespace resmeter {

PeerServer::PeerServer(PeerServerOptions options, const Signer* signer, Log log)
    : options_(std::move(options)), signer_(signer), log_(std::move(log)) {}

PeerServer::~PeerServer() { Stop(); }

void PeerServer::Note(const std::string& line) const {
  if (log_) log_(line);
}

Status PeerServer::Start() {
  if (signer_ == nullptr) return Status::InvalidArgument("peer: no signing key");
  RESMETER_ASSIGN_OR_RETURN(HostPort addr, ParseHostPort(options_.listen));
  RESMETER_ASSIGN_OR_RETURN(listener_, ListenTcp(addr));
  port_ = BoundPort(listener_.fd());
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void PeerServer::Stop() {
  stop_.store(true);
  if (accept_thread_.joinable()) accept_thread_.join();
  for (auto& w : workers_) w.thread.join();
  workers_.clear();
  listener_.Close();
}

PeerServer::Counters PeerServer::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

size_t PeerServer::ReapWorkers() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
  return workers_.size();
}

void PeerServer::AcceptLoop() {
  // Each session needs its control connection plus at most max_streams data connections.
  const size_t max_connections = static_cast<size_t>(options_.max_sessions) * (static_cast<size_t>(options_.max_streams) + 1) + 4;
  while (!stop_.load()) {
    size_t running = ReapWorkers();
    pollfd p{listener_.fd(), POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(kPollSliceSeconds * 1000));
    if (rc <= 0) continue;
    Socket s(::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!s.valid()) continue;
    if (running >= max_connections) {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.connections_refused;
      continue;  // closes the socket
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers_.push_back({std::thread([this, sock = std::move(s), done]() mutable {
                          HandleConnection(std::move(sock));
                          done->store(true);
                        }),
                        done});
  }
}

void PeerServer::HandleConnection(Socket socket) {
  const std::string who = RemoteAddress(socket.fd());
  const double deadline = MonotonicNow() + options_.idle_timeout_seconds;
  auto first = RecvFrame(socket.fd(), deadline, &stop_, "");
  if (!first.ok()) {
    Note(who + ": dropped: " + first.status().message());
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.connections_refused;
    return;
  }
  const std::string type = (*first)["type"].get<std::string>();
  if (type == "hello") {
    ServeSession(std::move(socket), std::move(*first));
    return;
  }
  if (type == "attach") {
    auto session = GetString(*first, "session");
    auto phase = GetString(*first, "phase");
    auto stream = GetInt(*first, "stream");
    std::shared_ptr<PeerSession> target;
    if (session.ok() && phase.ok() && stream.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = sessions_.find(*session);
      if (it != sessions_.end()) target = it->second;
    }
    if (target && target->Attach(*phase, *stream, std::move(socket))) return;
    Note(who + ": dropped a data connection for an unknown session, phase or stream");
  } else {
    SendErrorFrame(socket.fd(), "expected hello or attach, got '" + type.substr(0, 20) + "'", deadline);
    Note(who + ": dropped: first frame was '" + type.substr(0, 20) + "'");
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++counters_.connections_refused;
}

void PeerServer::ServeSession(Socket socket, nlohmann::json hello) {
  const std::string who = RemoteAddress(socket.fd());
  const int fd = socket.fd();
  auto session = std::make_shared<PeerSession>(std::move(socket), std::move(hello), options_, signer_, &stop_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sessions_.size() >= static_cast<size_t>(options_.max_sessions)) {
      ++counters_.sessions_refused;
      SendErrorFrame(fd, "busy: " + std::to_string(options_.max_sessions) + " sessions running, retry later",
                     MonotonicNow() + 1);
      Note(who + ": refused: busy");
      return;
    }
  }
  Status prepared = session->Prepare();
  if (!prepared.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.sessions_refused;
    Note(who + ": refused: " + prepared.message());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (sessions_.size() >= static_cast<size_t>(options_.max_sessions)) {  // raced with another hello
      ++counters_.sessions_refused;
      SendErrorFrame(fd, "busy: retry later", MonotonicNow() + 1);
      return;
    }
    sessions_[session->id()] = session;
  }
  Note(who + ": session " + session->id().substr(0, 8) + " started");
  Status st = session->Run();
  {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(session->id());
    if (st.ok()) {
      ++counters_.sessions_signed;
    } else {
      ++counters_.sessions_failed;
    }
  }
  Note(who + ": session " + session->id().substr(0, 8) + (st.ok() ? " signed" : " failed: " + st.message()));
}

}  // namespace resmeter
