// I/O buffers for the disk engines: page-aligned (O_DIRECT), filled with
// random bytes, carved from one anonymous mapping per job that asks for
// transparent huge pages when the buffers are 64 KiB or larger.
//
// Why huge pages (issue #22): a 1 MiB O_DIRECT request from a buffer of
// scattered 4 KiB pages becomes 256 segments on a virtio-blk disk (and two
// requests when the queue allows 254 segments), and the host copies each
// one. On the build VM, 1 MiB sequential reads at queue depth 1 ran at
// 1.1-1.3 GiB/s from a posix_memalign buffer and 2.3-2.9 GiB/s from a
// buffer in one 2 MiB page; fio's malloc'd buffer landed on either side from
// run to run (0.9-1.8 GiB/s), which was the "noise" of the 1 MiB rows.
// Whether the kernel granted huge pages is measured (/proc/self/smaps) and
// reported, because it changes what a 1 MiB row can reach.
//
// Thread-compatible: each buffer is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace resmeter {

class SplitMix64;

// One buffer of the pool; not owning.
class IoBuffer {
 public:
  IoBuffer(char* data, size_t size) : data_(data), size_(size) {}
  char* data() { return data_; }
  size_t size() const { return size_; }
  // Overwrites the first 8 bytes of every 4 KiB with fresh random values, so
  // no two written blocks are equal (defeats dedup; data stays incompressible).
  void Scramble(SplitMix64& rng);

 private:
  char* data_;
  size_t size_;
};

// `count` buffers of `size` bytes (a multiple of 4 KiB for O_DIRECT), each
// filled from its own seed (seed + i). Aborts when memory is exhausted, like
// operator new.
class IoBufferPool {
 public:
  IoBufferPool(size_t count, size_t size, uint64_t seed);
  ~IoBufferPool();
  IoBufferPool(const IoBufferPool&) = delete;
  IoBufferPool& operator=(const IoBufferPool&) = delete;

  IoBuffer& operator[](size_t i) { return buffers_[i]; }
  size_t count() const { return buffers_.size(); }
  // "N MiB of I/O buffers, M MiB in 2 MiB pages" from /proc/self/smaps, or
  // why that could not be read.
  std::string Backing() const;

 private:
  char* mapping_ = nullptr;  // the whole mapping, guard pages included
  size_t mapping_bytes_ = 0;
  char* data_ = nullptr;  // start of the buffers (2 MiB-aligned for 64 KiB and larger)
  size_t data_bytes_ = 0;
  std::vector<IoBuffer> buffers_;
};

}  // namespace resmeter
