// Latency histogram bins in the layout fio's `--output-format=json+` uses
// for "clat_ns" -> "bins", so a buyer can recompute any percentile from a
// signed report and compare it with fio on the same workload.
//
// The layout (fio's FIO_IO_U_PLAT_BITS = 6, 64 buckets per group, 29 groups
// for nanoseconds): a value v < 128 ns has a bucket of its own; a larger v
// with highest set bit m falls in group m - 5, whose range [2^m, 2^(m+1)) is
// cut into 64 equal buckets of width 2^(m-6). json+ prints each non-empty
// bucket as "VALUE": COUNT, where VALUE is the bucket's lower bound plus
// half its width (the bucket itself below 128), and fio's percentiles are
// those VALUEs. A bucket's half width is at most 1/128 of its lower bound,
// so VALUE is within kFioBinRelativeError of every value in the bucket.
// Values beyond the last group (2^34 ns, ~17 s) land in the last bucket.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>

namespace resmeter {

inline constexpr int kFioPlatBits = 6;
inline constexpr int kFioPlatGroups = 29;
inline constexpr int kFioBinCount = kFioPlatGroups << kFioPlatBits;        // 1856
inline constexpr double kFioBinRelativeError = 1.0 / (2 << kFioPlatBits);  // 1/128

// The bucket of a latency in nanoseconds.
int FioBinIndex(uint64_t ns);
// A bucket's [lower, upper) bounds in ns and its json+ key value.
uint64_t FioBinLower(int index);
uint64_t FioBinUpper(int index);
uint64_t FioBinValue(int index);

// Non-empty buckets: json+ key value -> count.
using FioBins = std::map<uint64_t, uint64_t>;

// The nearest-rank percentile (q in (0, 1]) as fio reports it: the key value
// of the first bucket whose cumulative count reaches q x total; 0 when empty.
uint64_t FioBinsPercentile(const FioBins& bins, double q);

// The claim object: {"layout", "unit", "relative_error_ratio", "count", "bins": {"VALUE": COUNT}}.
nlohmann::json FioBinsJson(const FioBins& bins);
// Bins from such an object (or from fio's own "bins" object); keys that are
// not decimal numbers or counts that are not non-negative integers are skipped.
FioBins FioBinsFromJson(const nlohmann::json& bins_object);

}  // namespace resmeter
