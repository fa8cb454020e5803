#include "core/fio_latency_bins.h"

#include <bit>
#include <cmath>
#include <string>

namespace resmeter {

int FioBinIndex(uint64_t ns) {
  constexpr uint64_t kExact = uint64_t{2} << kFioPlatBits;  // 128: one bucket per value below
  if (ns < kExact) return static_cast<int>(ns);
  const int msb = 63 - std::countl_zero(ns);
  const int shift = msb - kFioPlatBits;  // the bits below the bucket's resolution
  const int index =
      ((shift + 1) << kFioPlatBits) + static_cast<int>((ns >> shift) & ((1u << kFioPlatBits) - 1));
  return index < kFioBinCount ? index : kFioBinCount - 1;
}

uint64_t FioBinLower(int index) {
  if (index < (2 << kFioPlatBits)) return static_cast<uint64_t>(index);
  const int shift = (index >> kFioPlatBits) - 1;
  const uint64_t k = static_cast<uint64_t>(index & ((1 << kFioPlatBits) - 1));
  return (uint64_t{1} << (shift + kFioPlatBits)) + (k << shift);
}

uint64_t FioBinUpper(int index) {
  if (index < (2 << kFioPlatBits)) return static_cast<uint64_t>(index) + 1;
  const int shift = (index >> kFioPlatBits) - 1;
  return FioBinLower(index) + (uint64_t{1} << shift);
}

uint64_t FioBinValue(int index) {
  if (index < (2 << kFioPlatBits)) return static_cast<uint64_t>(index);
  const int shift = (index >> kFioPlatBits) - 1;
  return FioBinLower(index) + ((uint64_t{1} << shift) >> 1);
}

uint64_t FioBinsPercentile(const FioBins& bins, double q) {
  uint64_t total = 0;
  for (const auto& [value, count] : bins) total += count;
  if (total == 0) return 0;
  const double target = q * static_cast<double>(total);
  uint64_t sum = 0;
  for (const auto& [value, count] : bins) {
    sum += count;
    if (static_cast<double>(sum) >= target) return value;
  }
  return bins.rbegin()->first;
}

nlohmann::json FioBinsJson(const FioBins& bins) {
  nlohmann::json b = nlohmann::json::object();
  uint64_t total = 0;
  for (const auto& [value, count] : bins) {
    b[std::to_string(value)] = count;
    total += count;
  }
  return {
      {"layout", "fio json+ clat_ns bins (FIO_IO_U_PLAT_BITS 6, 64 buckets per power of two above 128 ns)"},
      {"unit", "ns"},
      {"relative_error_ratio", kFioBinRelativeError},
      {"count", total},
      {"bins", b}};
}

FioBins FioBinsFromJson(const nlohmann::json& bins_object) {
  FioBins out;
  if (!bins_object.is_object()) return out;
  for (auto it = bins_object.begin(); it != bins_object.end(); ++it) {
    const std::string& key = it.key();
    if (key.empty() || key.size() > 19 || key.find_first_not_of("0123456789") != std::string::npos) continue;
    if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) continue;
    out[std::stoull(key)] += it->get<uint64_t>();
  }
  return out;
}

}  // namespace resmeter
