#include "core/atomic_write.h"

#include <unistd.h>

#include <memory>

#include "core/posix_directory.h"
#include "core/safe_dir.h"

namespace resmeter {

Status WriteFileAtomically(Directory& dir, const std::string& name, std::string_view content, unsigned perm,
                           RenameMode mode) {
  const std::string display = dir.PathOf(name);
  // A temporary name nobody else holds: O_EXCL, a few candidates.
  std::string tmp;
  std::unique_ptr<WritableFile> file;
  for (int attempt = 0; attempt < 100 && !file; ++attempt) {
    tmp = name + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(attempt);
    auto opened = dir.OpenWritable(tmp, WriteMode::kCreateExclusive, perm);
    if (opened.ok())
      file = std::move(*opened);
    else if (opened.status().code() != Status::Code::kInvalidArgument)
      return opened.status().WithContext("cannot write " + display);
  }
  if (!file) return Status::IOError("cannot write " + display + ": no free temporary name");
  Status st = file->Append(content);
  if (st.ok()) st = file->Sync();
  if (st.ok()) st = file->Close();
  if (st.ok()) st = dir.Rename(tmp, name, mode);
  if (!st.ok()) {
    file.reset();
    (void)dir.Remove(tmp);
    return st;
  }
  return dir.Sync();
}

Status WriteFileAtomically(const std::string& path, std::string_view content, unsigned perm) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty()) return Status::InvalidArgument("cannot write " + path + ": it names a directory");
  auto opened = SafeDir::OpenUnchecked(dir);
  if (!opened.ok()) return opened.status().WithContext("cannot write " + path);
  return WriteFileAtomically(*NewPosixDirectory(std::move(*opened)), name, content, perm);
}

}  // namespace resmeter
