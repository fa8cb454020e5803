// DiskTarget: what disk.io measures — either a scratch file that resmeter
// creates (and always removes), or, only when configured explicitly, an
// existing block device opened read-only.
//
// Safety rules enforced here, each failure one line naming the path:
//  - the directory must exist, be a directory, be writable, and be given by
//    its real path (a path through a symlink is refused: resmeter never
//    writes where it was not told to);
//  - free space must cover the file size plus a margin;
//  - the file is created with O_CREAT|O_EXCL|O_NOFOLLOW, so resmeter only
//    ever writes to a file it created, and it is filled with random data;
//  - the file's path is registered in core/temp_path_registry.h so the
//    CLI's signal handler removes it on SIGINT/SIGTERM; the destructor
//    removes it otherwise (after checking it is still the file created).
//
// Thread behaviour: not shared; the fd may be used by engine threads while
// the DiskTarget lives.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"

namespace resmeter {

struct ScratchFileSpec {
  std::string directory;
  uint64_t size_bytes = 0;
  uint64_t free_space_margin_bytes = 0;
  bool direct = true;  // O_DIRECT (bypass the page cache)
  uint64_t seed = 1;   // random contents
  std::function<bool()> cancelled = [] { return false; };
};

class DiskTarget {
 public:
  ~DiskTarget();
  DiskTarget(const DiskTarget&) = delete;
  DiskTarget& operator=(const DiskTarget&) = delete;

  // Creates, sizes and fills a scratch file. On any failure nothing is left behind.
  static Result<std::unique_ptr<DiskTarget>> CreateScratchFile(const ScratchFileSpec& spec);
  // Opens a block device read-only (O_DIRECT when `direct`).
  static Result<std::unique_ptr<DiskTarget>> OpenBlockDevice(const std::string& path, bool direct);

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  uint64_t size_bytes() const { return size_; }
  bool read_only() const { return read_only_; }
  uint64_t alignment_bytes() const { return alignment_; }
  // Conditions describing the target: kind, path, size, filesystem or device.
  nlohmann::json ConditionsJson() const;
  // Removes the scratch file now (also done by the destructor). No-op for a device.
  void Remove();

 private:
  DiskTarget() = default;
  int fd_ = -1;
  std::string path_;
  uint64_t size_ = 0;
  bool read_only_ = false;
  bool direct_ = true;
  uint64_t alignment_ = 4096;
  int registry_slot_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  bool owned_file_ = false;
  nlohmann::json info_ = nlohmann::json::object();
};

// Checks a directory for the scratch file: exists, is a directory, is its own
// real path, is writable. Returns the one-line reason otherwise.
Status CheckScratchDirectory(const std::string& directory);

}  // namespace resmeter
