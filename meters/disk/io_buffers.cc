#include "meters/disk/io_buffers.h"

#include <sys/mman.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "meters/disk/io_job_support.h"

namespace resmeter {
namespace {

constexpr size_t kHugePageBytes = size_t{2} << 20;
constexpr size_t kGuardBytes = 4096;
// Buffers below this size are a few segments anyway; they stay in 4 KiB pages
// so a 4 KiB job does not hold a 2 MiB page per pool.
constexpr size_t kHugePageMinBufferBytes = size_t{64} << 10;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

// "4 KiB", "2 MiB", "32 MiB": the pool is whole pages, so sizes are whole KiB.
std::string SizeText(uint64_t bytes) {
  if (bytes != 0 && bytes % (1 << 20) != 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes >> 20) + " MiB";
}

}  // namespace

void IoBuffer::Scramble(SplitMix64& rng) {
  for (size_t i = 0; i + 8 <= size_; i += 4096) {
    uint64_t v = rng.Next();
    std::memcpy(data_ + i, &v, 8);
  }
}

IoBufferPool::IoBufferPool(size_t count, size_t size, uint64_t seed) {
  const size_t slot = RoundUp(size, 4096);
  const bool huge = size >= kHugePageMinBufferBytes;
  const size_t align = huge ? kHugePageBytes : 4096;
  data_bytes_ = RoundUp(slot * count, align);
  // Room to align the start to 2 MiB plus an inaccessible page on each side:
  // the guards keep the kernel from merging this mapping with a neighbour, so
  // smaps describes exactly these buffers.
  mapping_bytes_ = data_bytes_ + align + 2 * kGuardBytes;
  void* m = ::mmap(nullptr, mapping_bytes_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) std::abort();  // out of address space: programmer-visible, as with new
  mapping_ = static_cast<char*>(m);
  const uintptr_t first = reinterpret_cast<uintptr_t>(mapping_) + kGuardBytes;
  data_ = reinterpret_cast<char*>(RoundUp(first, align));
  if (::mprotect(data_, data_bytes_, PROT_READ | PROT_WRITE) != 0) std::abort();
  // Advice only: with THP set to "never" the buffers stay in 4 KiB pages and
  // Backing() says so.
  if (huge) (void)::madvise(data_, data_bytes_, MADV_HUGEPAGE);
  buffers_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    char* p = data_ + i * slot;
    SplitMix64 rng(seed + i);
    for (size_t off = 0; off + 8 <= size; off += 8) {
      uint64_t v = rng.Next();
      std::memcpy(p + off, &v, 8);
    }
    buffers_.emplace_back(p, size);
  }
}

IoBufferPool::~IoBufferPool() { ::munmap(mapping_, mapping_bytes_); }

std::string IoBufferPool::Backing() const {
  const std::string total = SizeText(data_bytes_) + " of I/O buffers";
  std::ifstream smaps("/proc/self/smaps");
  if (!smaps) return total + ", page size unknown (/proc/self/smaps unreadable)";
  const uintptr_t start = reinterpret_cast<uintptr_t>(data_);
  bool in_ours = false;
  std::string line;
  while (std::getline(smaps, line)) {
    // A mapping's header line is "start-end perms ..." in hex; its fields follow.
    const size_t dash = line.find('-');
    if (dash != std::string::npos && dash > 0 && line.find(':') > dash &&
        std::isxdigit(static_cast<unsigned char>(line[0]))) {
      in_ours = std::strtoull(line.c_str(), nullptr, 16) == start;
      continue;
    }
    if (in_ours && line.rfind("AnonHugePages:", 0) == 0) {
      const uint64_t huge_kib = std::strtoull(line.c_str() + 14, nullptr, 10);
      return total + ", " + SizeText(huge_kib << 10) + " in 2 MiB pages";
    }
  }
  return total + ", page size unknown (mapping not found in /proc/self/smaps)";
}

}  // namespace resmeter
