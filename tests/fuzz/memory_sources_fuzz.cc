// libFuzzer target: the memory source parsers of memory.capacity on bytes a
// provider controls. The input is split at the first NUL byte into
// /proc/zoneinfo text and meminfo text; ParseZoneinfo and ParseMeminfo must
// never crash or throw, and whatever they accept goes through
// CompareMemorySources (which must not produce NaN or a negative excess).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meters/memory/memory_accounting.h"
#include "meters/memory/memory_capacity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t nul = all.find('\0');
  const std::string_view zone_text = all.substr(0, nul);
  const std::string_view meminfo_text =
      nul == std::string_view::npos ? std::string_view() : all.substr(nul + 1);
  auto zones = resmeter::ParseZoneinfo(zone_text);
  auto meminfo = resmeter::ParseMeminfo(meminfo_text);
  resmeter::MemorySources s;
  if (meminfo.ok() && meminfo->count("MemTotal")) s.meminfo_total = meminfo->at("MemTotal");
  if (zones.ok()) {
    s.zone_present = zones->present * 4096;  // wraps on absurd counts: still defined for uint64_t
    s.zone_managed = zones->managed * 4096;
    s.node_total = zones->managed * 4096;
  }
  if (meminfo.ok() && meminfo->count("MemFree")) s.blocks_online = meminfo->at("MemFree");
  const resmeter::MemoryComparison c = resmeter::CompareMemorySources(s, {});
  for (const auto& k : c.checks) {
    if (std::isnan(k.excess_ratio) || k.excess_ratio < 0) __builtin_trap();
  }
  (void)resmeter::MemoryChecksToJson(c).dump();
  return 0;
}
