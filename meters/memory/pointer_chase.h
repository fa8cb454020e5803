// The randomized pointer chase shared by cache.hierarchy and memory.latency.
//
// A buffer is cut into slots of `stride` bytes (one cache line); the first
// word of each slot points to the next slot of one random cycle through all
// slots (Sattolo's algorithm), so every load depends on the previous one and
// no prefetcher can guess the next line. Nanoseconds per load over many loads
// is the load-to-use latency of whichever level holds the buffer.
//
// Threading: functions touch only the buffer they are given; one thread per
// buffer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/env.h"

namespace resmeter {

// Links the first `bytes` of `buf` (slots of `stride` bytes, stride >=
// sizeof(void*)) into one random cycle seeded by `seed`.
// REQUIRES: bytes / stride >= 2; buf aligned to stride.
void BuildRandomCycle(void* buf, size_t bytes, size_t stride, uint64_t seed);

// Follows `loads` pointers from `start`; returns where it stopped.
void* ChasePointers(void* start, uint64_t loads);

// Seconds per load: from *cursor, warms up with `warmup_loads`, then returns
// the best of `reps` timed runs of `loads` loads each (Env's monotonic
// clock). *cursor is left where the chase stopped, so the next call walks
// on along the cycle instead of re-reading lines it just touched.
double TimeChase(const Env& env, void** cursor, uint64_t loads, uint64_t warmup_loads, int reps);

}  // namespace resmeter
