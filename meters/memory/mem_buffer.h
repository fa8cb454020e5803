// MemBuffer: a large anonymous mapping for the memory meters, aligned to
// 2 MiB and advised for transparent huge pages when asked, with a way to
// learn how much of it the kernel really backed with huge pages (from
// /proc/self/smaps), so the meters can say so in their conditions.
//
// Threading: the object is move-only and not synchronized; distinct threads
// may write distinct parts of the memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/env.h"
#include "core/result.h"

namespace resmeter {

class MemBuffer {
 public:
  // Maps `bytes` (rounded up to 2 MiB) of zeroed memory; with `huge_pages`
  // it is advised MADV_HUGEPAGE. IOError when the mapping fails.
  static Result<MemBuffer> Create(size_t bytes, bool huge_pages);
  MemBuffer() = default;
  ~MemBuffer();
  MemBuffer(MemBuffer&& other) noexcept;
  MemBuffer& operator=(MemBuffer&& other) noexcept;
  MemBuffer(const MemBuffer&) = delete;
  MemBuffer& operator=(const MemBuffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }
  // Bytes of this mapping backed by huge pages (AnonHugePages in
  // proc_root/self/smaps); 0 when unknown.
  uint64_t HugePageBytes(const Env& env, const std::string& proc_root) const;

 private:
  void* base_ = nullptr;  // the raw mapping
  size_t mapped_ = 0;
  void* data_ = nullptr;  // 2 MiB aligned start inside it
  size_t size_ = 0;
};

// Parses the AnonHugePages (kB) of the smaps entry covering `addr`; 0 when absent.
uint64_t ParseSmapsHugeBytes(const std::string& smaps, uintptr_t addr);

}  // namespace resmeter
