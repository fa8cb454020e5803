// The plots of one meter's card, chosen by what its claims hold (not only by
// its name, so a meter that gains a curve gains its plot): the cache latency
// curve with detected and reported levels; disk latency distributions (from
// histogram bins when the report carries them, else the percentile ladder),
// IOPS and bandwidth per workload beside the policy's bounds; the CPU
// frequency over the sustained window, per-vCPU availability, burst vs
// all-core vs nominal; STREAM kernels; network throughput per peer and
// direction and RTT distributions; GPU compute rate vs the model's peak.
// A claim of the wrong type is skipped, never thrown on. Pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace resmeter::html {

// A policy clause as the verify JSON carries it ({name, required, measured, passed}).
struct ClauseBound {
  std::string claim;      // "disk.rand_read_iops" (qualifiers stripped)
  std::string qualifier;  // "qd=32", "peer=h:p", ""
  double value = 0;       // the first number of `required`, in the policy's unit
  std::string text;       // "required" as written
  bool passed = false;
};

// Bounds of every numeric clause of a verify JSON "policy" member.
std::vector<ClauseBound> ParseClauseBounds(const nlohmann::json& policy);

// The plots (each a <figure>) for meter `name`; `submods` gives access to
// other meters (the cache plot marks memory.latency).
std::vector<std::string> MeterPlots(const std::string& name, const nlohmann::json& submod,
                                    const nlohmann::json& submods, const std::vector<ClauseBound>& bounds);

}  // namespace resmeter::html
