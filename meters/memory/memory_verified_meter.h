// memory.verified: how much RAM the machine really serves, by challenge.
// The meter allocates `share_of_available` of MemAvailable (capped by
// max_bytes), writes every word with a keyed pseudo-random pattern, reads it
// all back (newest unit first) and checks it, and times each unit (1 GiB by
// default) of the read-back pass.
//
// Why each part:
//  - a fresh random key per run (getrandom) makes the content unknown in
//    advance, so a host cannot dedupe the pages, map them to one zero page
//    or compress them, and cannot answer the read-back without having kept
//    every word;
//  - the read-back of a unit held in RAM runs at memory speed; a unit the
//    guest swapped out (swap file, zram) or the host swapped or compressed
//    behind the guest's back has to fault back in, which is much slower. A
//    unit whose read-back rate is below reference / slow_factor is slow;
//    the reference is the read-back rate of a 64 MiB buffer verified twice
//    just before (certainly resident);
//  - mincore(2) before each unit's read-back counts pages the guest itself
//    no longer holds (swapped out to its own swap or zram).
// verified_bytes = resident bytes of units that verified correctly at RAM
// speed. Findings: `memory_swapped` (with slow_ratio and
// swapped_ratio) when either fraction exceeds max_slow_ratio;
// `memory_corrupted` when any word read back differs.
// The pattern is one multiply and two xors per word so that the read-back
// is bound by memory, not by computing the pattern: a slow unit then stands
// out even against fast decompression (zram).
//
// Threading: Measure() runs on the calling thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"

namespace resmeter {

// The pattern word at index `i` under `key`.
inline uint64_t VerifyPatternWord(uint64_t key, uint64_t i) {
  uint64_t z = (i * 0x9E3779B97F4A7C15ull) ^ key;
  return z ^ (z >> 31);
}
// Writes words [first, first + count) of the pattern into `words`.
void FillPattern(uint64_t* words, uint64_t count, uint64_t key, uint64_t first);
// Counts words of `words` that differ from the pattern at [first, first + count).
uint64_t CountPatternMismatches(const uint64_t* words, uint64_t count, uint64_t key, uint64_t first);

// One unit's read-back, and how it is judged.
struct VerifiedUnit {
  uint64_t bytes = 0;
  double verify_seconds = 0;
  uint64_t mismatched_words = 0;
  double resident_ratio = 1;  // pages resident (mincore) before the read-back
};
struct VerifiedSummary {
  uint64_t verified_bytes = 0;
  double slow_ratio = 0;     // of units
  double swapped_ratio = 0;  // of bytes, not resident before read-back
  uint64_t mismatched_words = 0;
  std::vector<bool> slow;  // per unit
};
// Judges units against the reference read-back rate (bytes per second).
VerifiedSummary SummarizeUnits(const std::vector<VerifiedUnit>& units, double reference_bytes_per_second,
                               double slow_factor);

class MemoryVerifiedMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;
};

std::vector<OptionSpec> MemoryVerifiedOptions();

}  // namespace resmeter
