// The data path of a throughput phase, used by both the meter and the peer:
// StreamSenders write incompressible payload on N sockets until stopped;
// StreamReceivers read and count bytes on N sockets and take the counts at
// the start and the end of the measurement window (after the warm-up).
//
// Thread behaviour: each class starts one thread per socket in Start() and
// joins them in Stop() (also called by the destructor). Counts are atomics
// sampled from the calling thread. The sockets must outlive the object.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "peer/net_socket.h"

namespace resmeter {

// Bytes counted by the receiver in one direction during the window.
struct DirectionCounts {
  double window_seconds = 0;          // measured length of the window
  std::vector<uint64_t> stream_bytes;  // per stream, in stream order
  uint64_t total() const;
  // Bits per second of the total (0 when the window is empty).
  double bps() const;
};

class StreamSenders {
 public:
  // `seed` names the session; stream i's payload is seeded with seed + i.
  StreamSenders(std::vector<Socket>* sockets, int64_t buffer_bytes, std::string seed);
  ~StreamSenders() { Stop(); }
  StreamSenders(const StreamSenders&) = delete;
  StreamSenders& operator=(const StreamSenders&) = delete;

  // Starts one writer thread per socket.
  void Start();
  // Stops and joins the writers; each shuts down its socket's write side.
  void Stop();
  // The first write error seen while not stopping (OK when none).
  Status error() const;
  // Bytes each stream's socket accepted so far (what the peer can have
  // received at most), in stream order.
  std::vector<uint64_t> SentBytes() const;

  // Size of the random pool each stream sends from at rotating offsets.
  static constexpr size_t kPoolBytes = 1 << 20;

 private:
  // One writer: sends from its pool until stop_ or an error.
  void Run(size_t index);

  std::vector<Socket>* sockets_;
  int64_t buffer_bytes_;
  std::string seed_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<std::atomic<uint64_t>[]> sent_;
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  Status error_;
};

class StreamReceivers {
 public:
  StreamReceivers(std::vector<Socket>* sockets, int64_t buffer_bytes);
  ~StreamReceivers() { Stop(); }
  StreamReceivers(const StreamReceivers&) = delete;
  StreamReceivers& operator=(const StreamReceivers&) = delete;

  // Starts one reader thread per socket.
  void Start();
  // Sleeps `omit` seconds, takes the counts, sleeps `duration`, takes them
  // again. Fails when a stream ends or errs before the window closes, when
  // no byte arrived in the window, or when `cancel` is set.
  Result<DirectionCounts> MeasureWindow(double omit, double duration, const std::atomic<bool>* cancel);
  // Stops and joins the readers.
  void Stop();

 private:
  // One reader: counts bytes until stop_, EOF or an error.
  void Run(size_t index);
  // Waits until `until`; error when a stream ended or on cancel.
  Status SleepWatching(double until, const std::atomic<bool>* cancel);

  std::vector<Socket>* sockets_;
  int64_t buffer_bytes_;
  std::atomic<bool> stop_{false};
  std::unique_ptr<std::atomic<uint64_t>[]> bytes_;
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  Status error_;  // first stream that ended early
};

}  // namespace resmeter
