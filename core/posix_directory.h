// The POSIX Directory (core/directory.h): a SafeDir (core/safe_dir.h) and
// the files opened in it, with write(2), fsync(2), ftruncate(2), renameat(2)
// and flock(2). Env::OpenDirectory() of the default Env returns one; the one
// atomic replacement of user-named output files (core/atomic_write.h) wraps
// an unchecked SafeDir in one.
#pragma once

#include <memory>

#include "core/directory.h"
#include "core/safe_dir.h"

namespace resmeter {

// A Directory over `dir` (which must be valid); its checks are the ones
// `dir` was opened with.
std::unique_ptr<Directory> NewPosixDirectory(SafeDir dir);

}  // namespace resmeter
