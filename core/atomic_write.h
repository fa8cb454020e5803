// The one way resmeter replaces a whole file (identity document, state
// files, peer key, reports a user names): write a temporary file next to it
// (O_EXCL, never following a link), fsync it, rename it over the name and
// fsync the directory. A crash at any point leaves the old file or the new
// one, never a mix; a leftover "<name>.tmp.*" is the only trace.
#pragma once

#include <string>
#include <string_view>

#include "core/directory.h"
#include "core/status.h"

namespace resmeter {

// Replaces (kReplace) or creates (kNoReplace: InvalidArgument when `name`
// exists, nothing written) `name` in `dir` with `content` (permissions
// `perm`), durable on return. Errors name the file; the temporary is removed.
Status WriteFileAtomically(Directory& dir, const std::string& name, std::string_view content, unsigned perm,
                           RenameMode mode = RenameMode::kReplace);

// The same for an output file a user named on the command line: its
// directory is opened without SafeDir's ownership checks (it may be /tmp).
Status WriteFileAtomically(const std::string& path, std::string_view content, unsigned perm);

}  // namespace resmeter
