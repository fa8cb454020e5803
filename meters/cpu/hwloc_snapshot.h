// HwlocSnapshot: the parts of an hwloc topology that meters report, copied
// into plain data so no hwloc object outlives the load.
//
// hwloc's Linux backend reads one filesystem root that holds both sys/ and
// proc/ (the HWLOC_FSROOT environment variable; hwloc 2.x has no API for it).
// ResolveHwlocRoot() maps resmeter's --proc-root/--sys-root onto such a root;
// LoadHwlocSnapshot() sets HWLOC_FSROOT only while loading from a root other
// than "/", under a process-wide mutex, and restores it afterwards.
// hwloc reads the files itself, not through Env. For a root other than "/"
// the x86 (CPUID) backend is disabled so the live CPU cannot leak into a
// fixture's topology. HWLOC_HIDE_ERRORS=2 is set (unless already set) so
// hwloc never writes to stderr.
//
// Thread-safety: LoadHwlocSnapshot may be called from several threads (the
// loads are serialized). Changing the environment races with unrelated
// threads calling getenv(); this only happens for non-default roots (tests,
// offline analysis of a copied tree).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace resmeter {

// One group of identical caches: same level, type, size and sharing.
struct HwlocCacheGroup {
  int level = 0;     // 1, 2, 3 ...
  std::string type;  // "unified", "data" or "instruction"
  uint64_t size_bytes = 0;
  unsigned line_size_bytes = 0;  // 0 when unknown
  int ways = 0;                  // associativity; -1 fully associative, 0 unknown
  int instances = 0;             // how many caches of this shape
  int shared_by_pus = 0;         // PUs sharing each instance
};

struct HwlocNumaNode {
  unsigned os_index = 0;
  uint64_t local_memory_bytes = 0;
  int pus = 0;  // PUs attached to this node (weight of its cpuset)
};

struct HwlocSnapshot {
  int packages = 0;
  int cores = 0;
  int pus = 0;
  int allowed_pus = 0;  // PUs this process may use (cgroup cpuset)
  std::vector<HwlocNumaNode> numa_nodes;
  std::vector<HwlocCacheGroup> caches;  // sorted by level, then type
  uint64_t total_memory_bytes = 0;      // root object's total memory
  std::string cpu_model;                // first package's CPUModel info, may be empty
  std::string backend;                  // root object's Backend info, e.g. "Linux"
  bool is_this_system = false;          // hwloc's view: topology of the running machine
  std::string hwloc_version;            // runtime library version, "2.9.0"
};

// How resmeter's roots map onto one hwloc filesystem root.
struct HwlocRoot {
  std::string fsroot;              // "/" or the common parent of proc/ and sys/
  bool proc_root_honoured = true;  // false: hwloc reads fsroot/proc, not the given --proc-root
  std::string note;                // one line explaining a limitation; empty when none
};

// Chooses hwloc's root: "/" for the default roots, the common parent when
// proc_root and sys_root are siblings named proc and sys, otherwise the
// parent of sys_root with proc_root_honoured = false.
HwlocRoot ResolveHwlocRoot(const std::string& proc_root, const std::string& sys_root);

// Loads the topology (no I/O devices) from fsroot and copies it out.
// Returns NotSupported/IOError with hwloc's reason when loading fails.
Result<HwlocSnapshot> LoadHwlocSnapshot(const std::string& fsroot);

}  // namespace resmeter
