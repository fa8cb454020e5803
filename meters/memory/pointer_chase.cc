#include "meters/memory/pointer_chase.h"

#include <algorithm>
#include <random>
#include <vector>

namespace resmeter {

void BuildRandomCycle(void* buf, size_t bytes, size_t stride, uint64_t seed) {
  const size_t n = bytes / stride;
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
  // Sattolo's algorithm: a uniformly random permutation with a single cycle.
  std::mt19937_64 rng(seed);
  for (size_t i = n - 1; i > 0; --i) {
    std::uniform_int_distribution<size_t> pick(0, i - 1);
    std::swap(order[i], order[pick(rng)]);
  }
  char* base = static_cast<char*>(buf);
  for (size_t i = 0; i < n; ++i) {
    // Slot i points to slot order[i]; one cycle through all slots.
    *reinterpret_cast<void**>(base + static_cast<size_t>(i) * stride) = base + static_cast<size_t>(order[i]) * stride;
  }
}

// Not instrumented by ASan/UBSan: a shadow-memory check per load would be
// measured as latency. The chase reads only the caller's buffer.
__attribute__((no_sanitize("address", "undefined"))) void* ChasePointers(void* start, uint64_t loads) {
  void* p = start;
  uint64_t i = 0;
  for (; i + 8 <= loads; i += 8) {
    p = *static_cast<void**>(p);
    p = *static_cast<void**>(p);
    p = *static_cast<void**>(p);
    p = *static_cast<void**>(p);
    p = *static_cast<void**>(p);
    p = *static_cast<void**>(p);
    p = *static_cast<void**>(p);
    p = *static_cast<void**>(p);
  }
  for (; i < loads; ++i) p = *static_cast<void**>(p);
  asm volatile("" : "+r"(p));
  return p;
}

double TimeChase(const Env& env, void** cursor, uint64_t loads, uint64_t warmup_loads, int reps) {
  void* p = ChasePointers(*cursor, warmup_loads);
  double best = 0;
  for (int r = 0; r < std::max(1, reps); ++r) {
    const double t0 = env.MonotonicSeconds();
    p = ChasePointers(p, loads);
    const double dt = env.MonotonicSeconds() - t0;
    if (r == 0 || dt < best) best = dt;
  }
  *cursor = p;
  return best / static_cast<double>(std::max<uint64_t>(1, loads));
}

}  // namespace resmeter
