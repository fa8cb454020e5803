// The disk engines' buffer pool: O_DIRECT alignment, distinct random
// contents per buffer, 1 MiB buffers placed on a 2 MiB boundary (so a huge
// page can back them), and a page-size report read from this process's own
// mapping in /proc/self/smaps.
#include "meters/disk/io_buffers.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

#include "meters/disk/io_job_support.h"

namespace resmeter {
namespace {

uintptr_t Address(IoBuffer& b) { return reinterpret_cast<uintptr_t>(b.data()); }

TEST(io_buffers, buffers_are_aligned_for_o_direct_and_differ) {
  IoBufferPool pool(8, 4096, 7);
  ASSERT_EQ(pool.count(), 8u);
  for (size_t i = 0; i < pool.count(); ++i) {
    EXPECT_EQ(Address(pool[i]) % 4096, 0u) << i;
    EXPECT_EQ(pool[i].size(), 4096u);
  }
  EXPECT_NE(std::memcmp(pool[0].data(), pool[1].data(), 4096), 0);
  // Scramble changes the first 8 bytes of each 4 KiB.
  uint64_t before = 0, after = 0;
  std::memcpy(&before, pool[0].data(), 8);
  SplitMix64 rng(3);
  pool[0].Scramble(rng);
  std::memcpy(&after, pool[0].data(), 8);
  EXPECT_NE(before, after);
}

TEST(io_buffers, large_buffers_start_on_a_huge_page_boundary) {
  IoBufferPool pool(3, 1 << 20, 1);
  EXPECT_EQ(Address(pool[0]) % (2u << 20), 0u);
  EXPECT_EQ(Address(pool[1]) - Address(pool[0]), 1u << 20);
  // Every byte is writable (the guard pages lie outside the buffers).
  std::memset(pool[2].data(), 0x5a, pool[2].size());
  EXPECT_EQ(static_cast<unsigned char>(pool[2].data()[(1 << 20) - 1]), 0x5a);
}

TEST(io_buffers, backing_is_read_from_this_mapping_in_smaps) {
  IoBufferPool pool(2, 1 << 20, 1);
  const std::string backing = pool.Backing();
  EXPECT_EQ(backing.rfind("2 MiB of I/O buffers, ", 0), 0u) << backing;
  EXPECT_NE(backing.find(" MiB in 2 MiB pages"), std::string::npos) << backing;
  IoBufferPool small(1, 4096, 1);
  EXPECT_EQ(small.Backing(), "4 KiB of I/O buffers, 0 MiB in 2 MiB pages");
}

}  // namespace
}  // namespace resmeter
