// TimestampStamper: asks the configured TSAs, on a thread of its own, to
// stamp ledger line hashes, so a slow or dead TSA never delays metering. The
// ledger owner submits the head it wants stamped and, at its next append,
// takes the stamps that came back and writes them into the ledger.
//
// At most one request waits: a newer submission replaces one not yet
// started (the newest head covers everything before it). Each TSA is asked
// in turn, each bounded by its timeout; a failure is reported through
// `on_failure` and counted, and leaves that stretch of time unchecked.
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tsa/tsa_client.h"

namespace resmeter {

// A token for one line, ready to be written as a timestamp statement.
struct CompletedStamp {
  uint64_t stamped_seq = 0;
  std::string stamped_sha256_hex;
  TsaStamp stamp;
};

class TimestampStamper {
 public:
  TimestampStamper(std::vector<TsaEndpoint> tsas, TsaRequestOptions options,
                   std::function<void(const TsaEndpoint&, const Status&)> on_failure);
  ~TimestampStamper();  // Stop()
  TimestampStamper(const TimestampStamper&) = delete;
  TimestampStamper& operator=(const TimestampStamper&) = delete;

  // Queues line `seq` with raw SHA-256 `sha256` (32 bytes); never blocks.
  void Submit(uint64_t seq, const std::string& sha256);
  // The stamps that came back since the last call, in completion order.
  std::vector<CompletedStamp> Take();
  // Waits until nothing is queued or in flight, at most `seconds`; true when idle.
  bool WaitIdle(double seconds);
  // Ends the thread (an HTTP request in flight finishes within its timeout).
  void Stop();

  uint64_t requests() const { return requests_; }
  uint64_t failures() const { return failures_; }

 private:
  struct Job {
    uint64_t seq;
    std::string sha256;
  };
  void Loop();

  const std::vector<TsaEndpoint> tsas_;
  const TsaRequestOptions options_;
  const std::function<void(const TsaEndpoint&, const Status&)> on_failure_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Job> queued_;
  bool busy_ = false;
  bool stop_ = false;
  std::vector<CompletedStamp> done_;
  std::atomic<uint64_t> requests_{0}, failures_{0};
  std::thread thread_;
};

}  // namespace resmeter
