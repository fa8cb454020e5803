#include "core/temp_path_registry.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace resmeter {
namespace {

enum SlotState : int { kFree = 0, kBusy = 1, kReady = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  char path[kMaxTempPathLength + 1];
};

static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");
Slot g_slots[kMaxTempPaths];
std::atomic<bool> g_installed{false};

// The signal handler: clean up, restore the default action, re-raise.
void CleanupAndReraise(int sig) {
  int saved_errno = errno;
  CleanupRegisteredTempPaths();
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
  errno = saved_errno;
  raise(sig);
}

}  // namespace

Result<int> RegisterTempPath(const std::string& path) {
  if (path.empty() || path.size() > static_cast<size_t>(kMaxTempPathLength)) {
    return Status::InvalidArgument("temporary path is empty or too long: " + path.substr(0, 200));
  }
  for (int i = 0; i < kMaxTempPaths; ++i) {
    int expected = kFree;
    if (g_slots[i].state.compare_exchange_strong(expected, kBusy, std::memory_order_acq_rel)) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      g_slots[i].state.store(kReady, std::memory_order_release);
      return i;
    }
  }
  return Status::IOError("too many temporary files registered (" + std::to_string(kMaxTempPaths) +
                         "); cannot track " + path);
}

void UnregisterTempPath(int slot) {
  if (slot < 0 || slot >= kMaxTempPaths) return;
  g_slots[slot].state.store(kFree, std::memory_order_release);
}

void CleanupRegisteredTempPaths() {
  for (auto& slot : g_slots) {
    int expected = kReady;
    // Claim the slot so a concurrent cleanup does not unlink twice.
    if (slot.state.compare_exchange_strong(expected, kBusy, std::memory_order_acq_rel)) {
      ::unlink(slot.path);
      slot.state.store(kFree, std::memory_order_release);
    }
  }
}

int RegisteredTempPathCount() {
  int n = 0;
  for (auto& slot : g_slots) n += slot.state.load(std::memory_order_acquire) == kReady;
  return n;
}

Status InstallTempPathCleanupOnSignals() {
  if (g_installed.exchange(true)) return Status::Ok();
  // Also at normal exit: a meter thread the runner abandoned after a timeout
  // never runs its destructors.
  std::atexit(CleanupRegisteredTempPaths);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = CleanupAndReraise;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sa.sa_mask, sig);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    // A signal ignored at start-up (nohup, `cmd &` in a script) stays ignored:
    // it cannot end the process, so there is nothing to clean up for it.
    struct sigaction old;
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    if (sigaction(sig, &sa, nullptr) != 0) {
      g_installed = false;
      return Status::FromErrno("sigaction(" + std::to_string(sig) + ")", errno);
    }
  }
  return Status::Ok();
}

}  // namespace resmeter
