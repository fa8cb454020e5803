#include "peer/net_streams.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "peer/net_protocol.h"

namespace resmeter {

uint64_t DirectionCounts::total() const {
  uint64_t t = 0;
  for (uint64_t b : stream_bytes) t += b;
  return t;
}

double DirectionCounts::bps() const {
  return window_seconds > 0 ? static_cast<double>(total()) * 8.0 / window_seconds : 0.0;
}

StreamSenders::StreamSenders(std::vector<Socket>* sockets, int64_t buffer_bytes, std::string seed)
    : sockets_(sockets),
      buffer_bytes_(buffer_bytes),
      seed_(std::move(seed)),
      sent_(new std::atomic<uint64_t>[sockets->size()]) {
  for (size_t i = 0; i < sockets->size(); ++i) sent_[i].store(0);
}

void StreamSenders::Start() {
  for (size_t i = 0; i < sockets_->size(); ++i) threads_.emplace_back([this, i] { Run(i); });
}

void StreamSenders::Stop() {
  stop_.store(true);
  for (auto& t : threads_) t.join();
  threads_.clear();
}

std::vector<uint64_t> StreamSenders::SentBytes() const {
  std::vector<uint64_t> out(sockets_->size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = sent_[i].load();
  return out;
}

Status StreamSenders::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

void StreamSenders::Run(size_t index) {
  const int fd = (*sockets_)[index].fd();
  const size_t chunk = static_cast<size_t>(buffer_bytes_);
  // The pool is longer than one write by `chunk`, so any offset below
  // kPoolBytes can send a whole chunk; the offset advances by a step that is
  // not a divisor of the pool, so consecutive writes differ.
  std::vector<char> pool(kPoolBytes + chunk);
  PayloadGenerator gen(seed_ + "/" + std::to_string(index));
  gen.Fill(pool.data(), pool.size());
  const size_t step = chunk + 4099;
  size_t offset = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    ssize_t r = ::send(fd, pool.data() + offset, chunk, MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;  // SO_SNDTIMEO slice
      if (!stop_.load()) {
        std::lock_guard<std::mutex> lock(mu_);
        if (error_.ok()) {
          const bool closed = errno == EPIPE || errno == ECONNRESET;
          error_ = Status::IOError("data stream " + std::to_string(index) + ": " +
                                   (closed ? "closed by peer (" + std::string(std::strerror(errno)) + ")"
                                           : std::string(std::strerror(errno))));
        }
      }
      break;
    }
    sent_[index].fetch_add(static_cast<uint64_t>(r), std::memory_order_relaxed);
    offset = (offset + (static_cast<size_t>(r) == chunk ? step : static_cast<size_t>(r))) % kPoolBytes;
  }
  ::shutdown(fd, SHUT_WR);
}

StreamReceivers::StreamReceivers(std::vector<Socket>* sockets, int64_t buffer_bytes)
    : sockets_(sockets), buffer_bytes_(buffer_bytes), bytes_(new std::atomic<uint64_t>[sockets->size()]) {
  for (size_t i = 0; i < sockets->size(); ++i) bytes_[i].store(0);
}

void StreamReceivers::Start() {
  for (size_t i = 0; i < sockets_->size(); ++i) threads_.emplace_back([this, i] { Run(i); });
}

void StreamReceivers::Stop() {
  stop_.store(true);
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void StreamReceivers::Run(size_t index) {
  const int fd = (*sockets_)[index].fd();
  std::vector<char> buf(static_cast<size_t>(std::max<int64_t>(buffer_bytes_, 65536)));
  while (!stop_.load(std::memory_order_relaxed)) {
    ssize_t r = ::recv(fd, buf.data(), buf.size(), 0);
    if (r > 0) {
      bytes_[index].fetch_add(static_cast<uint64_t>(r), std::memory_order_relaxed);
      continue;
    }
    if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;  // SO_RCVTIMEO slice
    if (!stop_.load()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (error_.ok()) {
        error_ = Status::IOError("data stream " + std::to_string(index) + ": " +
                                 (r == 0 ? std::string("closed by peer") : std::strerror(errno)) +
                                 " before the measurement window ended");
      }
    }
    break;
  }
}

Status StreamReceivers::SleepWatching(double until, const std::atomic<bool>* cancel) {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_.ok()) return error_;
    }
    if (cancel != nullptr && cancel->load()) return Status::Cancelled("cancelled during the measurement window");
    double now = MonotonicNow();
    if (now >= until) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::duration<double>(std::min(0.02, until - now)));
  }
}

Result<DirectionCounts> StreamReceivers::MeasureWindow(double omit, double duration,
                                                       const std::atomic<bool>* cancel) {
  const size_t n = sockets_->size();
  const double start = MonotonicNow();
  RESMETER_RETURN_IF_ERROR(SleepWatching(start + omit, cancel));
  std::vector<uint64_t> first(n);
  const double t0 = MonotonicNow();
  for (size_t i = 0; i < n; ++i) first[i] = bytes_[i].load();
  RESMETER_RETURN_IF_ERROR(SleepWatching(t0 + duration, cancel));
  DirectionCounts counts;
  counts.stream_bytes.resize(n);
  const double t1 = MonotonicNow();
  for (size_t i = 0; i < n; ++i) counts.stream_bytes[i] = bytes_[i].load() - first[i];
  counts.window_seconds = t1 - t0;
  if (counts.total() == 0) {
    return Status::IOError("no payload byte arrived during the measurement window (sender stalled)");
  }
  return counts;
}

}  // namespace resmeter
