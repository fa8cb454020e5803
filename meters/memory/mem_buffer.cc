#include "meters/memory/mem_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <utility>

#include "core/strings.h"

namespace resmeter {
namespace {
constexpr size_t kHuge = size_t{2} << 20;
}  // namespace

Result<MemBuffer> MemBuffer::Create(size_t bytes, bool huge_pages) {
  const size_t size = (bytes + kHuge - 1) / kHuge * kHuge;
  const size_t mapped = size + kHuge;
  void* base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return Status::FromErrno("mmap of " + std::to_string(mapped) + " bytes", errno);
  MemBuffer b;
  b.base_ = base;
  b.mapped_ = mapped;
  const uintptr_t aligned = (reinterpret_cast<uintptr_t>(base) + kHuge - 1) / kHuge * kHuge;
  b.data_ = reinterpret_cast<void*>(aligned);
  b.size_ = size;
#ifdef MADV_HUGEPAGE
  if (huge_pages) madvise(b.data_, size, MADV_HUGEPAGE);  // advice only; failure means 4 KiB pages
#else
  (void)huge_pages;
#endif
  return b;
}

MemBuffer::~MemBuffer() {
  if (base_) munmap(base_, mapped_);
}

MemBuffer::MemBuffer(MemBuffer&& o) noexcept
    : base_(std::exchange(o.base_, nullptr)), mapped_(std::exchange(o.mapped_, 0)),
      data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MemBuffer& MemBuffer::operator=(MemBuffer&& o) noexcept {
  if (this != &o) {
    if (base_) munmap(base_, mapped_);
    base_ = std::exchange(o.base_, nullptr);
    mapped_ = std::exchange(o.mapped_, 0);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

uint64_t ParseSmapsHugeBytes(const std::string& smaps, uintptr_t addr) {
  bool inside = false;
  for (std::string_view line : Split(smaps, '\n')) {
    size_t dash = line.find('-');
    size_t space = line.find(' ');
    if (dash != std::string_view::npos && space != std::string_view::npos && dash < space) {
      // A mapping header: "start-end perms ...", hex addresses.
      std::string lo(line.substr(0, dash)), hi(line.substr(dash + 1, space - dash - 1));
      char* e1 = nullptr;
      char* e2 = nullptr;
      unsigned long long a = std::strtoull(lo.c_str(), &e1, 16);
      unsigned long long b = std::strtoull(hi.c_str(), &e2, 16);
      if (*e1 == '\0' && *e2 == '\0' && !lo.empty() && !hi.empty()) {
        inside = addr >= a && addr < b;
        continue;
      }
    }
    if (inside && StartsWith(line, "AnonHugePages:")) {
      std::vector<std::string_view> f = SplitWhitespace(line);
      if (f.size() >= 2) {
        if (auto kb = ParseUint64(f[1])) return *kb * 1024;
      }
      return 0;
    }
  }
  return 0;
}

uint64_t MemBuffer::HugePageBytes(const Env& env, const std::string& proc_root) const {
  if (!data_) return 0;
  Result<std::string> smaps = env.ReadFile(proc_root + "/self/smaps");
  if (!smaps.ok()) return 0;
  return ParseSmapsHugeBytes(*smaps, reinterpret_cast<uintptr_t>(data_));
}

}  // namespace resmeter
