// TempPathRegistry: the process-wide list of temporary files that must not
// outlive the process, and the async-signal-safe cleanup that removes them.
//
// Ownership of signals: code that creates a scratch file (e.g. the disk.io
// meter's DiskTarget::CreateScratchFile) only registers and unregisters its path here; it never
// installs signal handlers. The program that owns the process (the CLI in
// agent/cli.cc, RunCli) decides how signals are handled:
//   - one-shot commands (`resmeter probe`) call InstallTempPathCleanupOnSignals()
//     once at start-up: SIGINT, SIGTERM and SIGHUP then remove every registered
//     path and re-raise the signal with its default action (so the exit status
//     still says "killed by SIGINT"), and registered paths are also removed
//     at normal exit (atexit), which covers a meter thread the runner
//     abandoned after its timeout;
//   - a daemon with its own handlers calls CleanupRegisteredTempPaths() from
//     them (it is async-signal-safe) and before exiting.
//
// Thread-safety: Register/Unregister may be called from any thread;
// CleanupRegisteredTempPaths() may run in a signal handler concurrently with
// them. A fixed table of kMaxTempPaths slots is used, so nothing allocates.
#pragma once

#include <string>

#include "core/result.h"

namespace resmeter {

constexpr int kMaxTempPaths = 32;
constexpr int kMaxTempPathLength = 4095;

// Adds `path` (absolute) to the registry; returns the slot to pass to
// UnregisterTempPath. ResourceExhausted-style IOError when the table is full,
// InvalidArgument when the path is too long.
Result<int> RegisterTempPath(const std::string& path);
// Removes a slot from the registry (does not touch the file).
void UnregisterTempPath(int slot);
// Unlinks every registered path and empties the registry. Async-signal-safe.
void CleanupRegisteredTempPaths();
// Number of registered paths (for tests).
int RegisteredTempPathCount();
// Installs SIGINT/SIGTERM/SIGHUP handlers that call CleanupRegisteredTempPaths()
// and then re-raise the signal with its default action, and registers the
// cleanup with atexit(). A signal that is
// ignored when this is called (nohup, background jobs of scripts) is left
// ignored. Idempotent. Returns IOError if sigaction fails.
Status InstallTempPathCleanupOnSignals();

}  // namespace resmeter
