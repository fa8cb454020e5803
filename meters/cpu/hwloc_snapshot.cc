#include "meters/cpu/hwloc_snapshot.h"

#include <hwloc.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>

namespace resmeter {
namespace {

// Removes trailing slashes except for the root itself.
std::string StripTrailingSlashes(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

// The directory part of a path ("/a/b" -> "/a", "/a" -> "/", "a" -> ".").
std::string ParentOf(const std::string& path) {
  std::string p = StripTrailingSlashes(path);
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

// The last component of a path ("/a/b/" -> "b").
std::string BaseName(const std::string& path) {
  std::string p = StripTrailingSlashes(path);
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// Serializes hwloc loads and the HWLOC_FSROOT changes around them.
std::mutex& LoadMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}

// Sets HWLOC_FSROOT for its lifetime and restores the previous value.
class ScopedFsRoot {
 public:
  explicit ScopedFsRoot(const std::string& fsroot) {
    if (fsroot == "/") return;  // hwloc's default; leave the environment alone
    active_ = true;
    if (const char* old = ::getenv("HWLOC_FSROOT")) previous_ = std::string(old);
    ::setenv("HWLOC_FSROOT", fsroot.c_str(), 1);
  }
  ~ScopedFsRoot() {
    if (!active_) return;
    if (previous_) {
      ::setenv("HWLOC_FSROOT", previous_->c_str(), 1);
    } else {
      ::unsetenv("HWLOC_FSROOT");
    }
  }
  ScopedFsRoot(const ScopedFsRoot&) = delete;
  ScopedFsRoot& operator=(const ScopedFsRoot&) = delete;

 private:
  bool active_ = false;
  std::optional<std::string> previous_;
};

// Owns an hwloc topology handle.
struct TopologyDeleter {
  void operator()(hwloc_topology_t t) const { hwloc_topology_destroy(t); }
};

// hwloc's cache type as a word.
const char* CacheTypeName(hwloc_obj_cache_type_t type) {
  switch (type) {
    case HWLOC_OBJ_CACHE_DATA:
      return "data";
    case HWLOC_OBJ_CACHE_INSTRUCTION:
      return "instruction";
    case HWLOC_OBJ_CACHE_UNIFIED:
      break;
  }
  return "unified";
}

// Copies every cache object into groups of identical shape.
std::vector<HwlocCacheGroup> CollectCaches(hwloc_topology_t topo) {
  using Key = std::tuple<int, std::string, uint64_t, unsigned, int, int>;
  std::map<Key, int> counts;
  const hwloc_obj_type_t kCacheTypes[] = {HWLOC_OBJ_L1CACHE,  HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE,
                                          HWLOC_OBJ_L4CACHE,  HWLOC_OBJ_L5CACHE, HWLOC_OBJ_L1ICACHE,
                                          HWLOC_OBJ_L2ICACHE, HWLOC_OBJ_L3ICACHE};
  for (hwloc_obj_type_t type : kCacheTypes) {
    int n = hwloc_get_nbobjs_by_type(topo, type);
    for (int i = 0; i < n; ++i) {
      hwloc_obj_t obj = hwloc_get_obj_by_type(topo, type, static_cast<unsigned>(i));
      const auto& c = obj->attr->cache;
      int shared = obj->cpuset ? hwloc_bitmap_weight(obj->cpuset) : 0;
      Key key{static_cast<int>(c.depth), CacheTypeName(c.type), c.size, c.linesize, c.associativity, shared};
      counts[key]++;
    }
  }
  std::vector<HwlocCacheGroup> out;
  for (const auto& [key, count] : counts) {
    HwlocCacheGroup g;
    std::tie(g.level, g.type, g.size_bytes, g.line_size_bytes, g.ways, g.shared_by_pus) = key;
    g.instances = count;
    out.push_back(g);
  }
  return out;
}

}  // namespace

HwlocRoot ResolveHwlocRoot(const std::string& proc_root, const std::string& sys_root) {
  HwlocRoot root;
  const std::string proc_parent = ParentOf(proc_root);
  const std::string sys_parent = ParentOf(sys_root);
  if (BaseName(proc_root) == "proc" && BaseName(sys_root) == "sys" && proc_parent == sys_parent) {
    root.fsroot = sys_parent;
    return root;
  }
  root.fsroot = sys_parent;
  root.proc_root_honoured = false;
  root.note = "hwloc reads one root holding sys/ and proc/; --proc-root " + proc_root + " and --sys-root " +
              sys_root + " are not siblings named proc and sys, so hwloc reads " +
              (sys_parent == "/" ? std::string("/proc") : sys_parent + "/proc");
  return root;
}

Result<HwlocSnapshot> LoadHwlocSnapshot(const std::string& fsroot) {
  std::lock_guard<std::mutex> lock(LoadMutex());
  // Meters never print: level 2 silences all of hwloc's stderr messages. hwloc
  // reads the variable once per process; an explicit setting is respected.
  ::setenv("HWLOC_HIDE_ERRORS", "2", /*overwrite=*/0);
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) return Status::FromErrno("hwloc_topology_init", errno);
  std::unique_ptr<hwloc_topology, TopologyDeleter> topo(raw);
  hwloc_topology_set_flags(raw, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
  hwloc_topology_set_io_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_NONE);
  hwloc_topology_set_icache_types_filter(raw, HWLOC_TYPE_FILTER_KEEP_ALL);  // hidden by default
  if (fsroot != "/") {
    // The x86 backend would mix this machine's CPUID into another root's topology.
    hwloc_topology_set_components(raw, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "x86");
  }
  {
    ScopedFsRoot scoped(fsroot);
    if (hwloc_topology_load(raw) != 0) {
      return Status::FromErrno("hwloc_topology_load from " + fsroot, errno);
    }
  }

  HwlocSnapshot s;
  s.packages = std::max(0, hwloc_get_nbobjs_by_type(raw, HWLOC_OBJ_PACKAGE));
  s.cores = std::max(0, hwloc_get_nbobjs_by_type(raw, HWLOC_OBJ_CORE));
  s.pus = std::max(0, hwloc_get_nbobjs_by_type(raw, HWLOC_OBJ_PU));
  hwloc_const_cpuset_t allowed = hwloc_topology_get_allowed_cpuset(raw);
  s.allowed_pus = allowed ? hwloc_bitmap_weight(allowed) : s.pus;
  int nodes = hwloc_get_nbobjs_by_type(raw, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < nodes; ++i) {
    hwloc_obj_t obj = hwloc_get_obj_by_type(raw, HWLOC_OBJ_NUMANODE, static_cast<unsigned>(i));
    HwlocNumaNode n;
    n.os_index = obj->os_index;
    n.local_memory_bytes = obj->attr ? obj->attr->numanode.local_memory : 0;
    n.pus = obj->cpuset ? hwloc_bitmap_weight(obj->cpuset) : 0;
    s.numa_nodes.push_back(n);
  }
  std::sort(s.numa_nodes.begin(), s.numa_nodes.end(),
            [](const HwlocNumaNode& a, const HwlocNumaNode& b) { return a.os_index < b.os_index; });
  s.caches = CollectCaches(raw);
  hwloc_obj_t root = hwloc_get_root_obj(raw);
  s.total_memory_bytes = root->total_memory;
  if (const char* backend = hwloc_obj_get_info_by_name(root, "Backend")) s.backend = backend;
  if (hwloc_obj_t pkg = hwloc_get_obj_by_type(raw, HWLOC_OBJ_PACKAGE, 0)) {
    if (const char* model = hwloc_obj_get_info_by_name(pkg, "CPUModel")) s.cpu_model = model;
  }
  s.is_this_system = hwloc_topology_is_thissystem(raw) != 0;
  unsigned v = hwloc_get_api_version();
  s.hwloc_version =
      std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xff) + "." + std::to_string(v & 0xff);
  return s;
}

}  // namespace resmeter
