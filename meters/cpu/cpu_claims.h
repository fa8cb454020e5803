// What the platform claims about its CPUs, read through the injectable
// roots: the nominal frequency, whether the TSC is invariant, and the
// thermal-throttle counters. The CPU meters measure and compare against these.
//
// Threading: pure functions of the Env and the roots; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "meters/api/meter.h"

namespace resmeter {

struct NominalFrequency {
  double hz = 0;
  std::string source;  // e.g. "cpufreq base_frequency", "/proc/cpuinfo model name", "/proc/cpuinfo cpu MHz"
};

// Parses "... @ 2.40GHz" from the first "model name" line, or nullopt.
std::optional<double> ParseModelNameHz(std::string_view cpuinfo);
// Parses the first "cpu MHz" line, in Hz, or nullopt.
std::optional<double> ParseCpuMhzHz(std::string_view cpuinfo);
// True when the first "flags" line lists `flag` ("hypervisor", "constant_tsc").
bool CpuinfoHasFlag(std::string_view cpuinfo, std::string_view flag);
// True when the first "flags" line has both constant_tsc and nonstop_tsc.
bool HasInvariantTsc(std::string_view cpuinfo);

// The nominal frequency, from (in order) cpufreq base_frequency, the model
// name, cpufreq cpuinfo_max_freq, or cpuinfo's cpu MHz. NotFound when none.
Result<NominalFrequency> ReadNominalFrequency(const MeterContext& ctx);

// Sum of thermal_throttle core/package counters over all CPUs, or nullopt
// when no CPU has them (typical in VMs).
std::optional<uint64_t> ReadThermalThrottleCount(const MeterContext& ctx);

}  // namespace resmeter
