// Helpers shared by the I/O engines: the PRNG, offset
// generators and the measured-window bookkeeping. Internal to meters/.
//
// Thread-compatible: each object is used by one thread (the sequential
// cursor is shared through an atomic).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "meters/disk/io_buffers.h"
#include "meters/disk/io_engine.h"

namespace resmeter {

// splitmix64: a small, fast PRNG for offsets and buffer contents.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Produces block-aligned offsets: sequential (wrapping, shared cursor) or
// uniformly random over the target.
class OffsetSource {
 public:
  OffsetSource(const IoJob& job, std::atomic<uint64_t>* seq_cursor, uint64_t seed);
  uint64_t Next();

 private:
  bool sequential_;
  uint64_t block_;
  uint64_t blocks_;
  std::atomic<uint64_t>* cursor_;
  SplitMix64 rng_;
};

// The job's time window, from the env clock.
struct JobWindow {
  double t0 = 0, measure_start = 0, end = 0;
  static JobWindow Start(const IoJob& job);
  bool Counts(double t) const { return t >= measure_start && t < end; }
};

// Latency in whole nanoseconds between two clock readings.
inline uint64_t ElapsedNs(double from, double to) {
  double ns = (to - from) * 1e9;
  return ns > 0 ? static_cast<uint64_t>(ns + 0.5) : 0;
}

// "read of 4096 bytes at offset N of PATH: why" for engine errors.
Status IoFailure(const IoJob& job, bool write, uint64_t offset, long result);

}  // namespace resmeter
