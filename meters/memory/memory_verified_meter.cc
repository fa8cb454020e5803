#include "meters/memory/memory_verified_meter.h"

#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "claims/memory_claim_specs.h"
#include "core/strings.h"
#include "meters/memory/memory_capacity.h"

namespace resmeter {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kReferenceBytes = 64 * kMiB;

// An anonymous private mapping, unmapped on destruction.
class Mapping {
 public:
  explicit Mapping(uint64_t bytes) : bytes_(bytes) {
    void* p =
        mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) data_ = static_cast<uint64_t*>(p);
  }
  ~Mapping() {
    if (data_) munmap(data_, bytes_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  uint64_t* data() const { return data_; }

 private:
  uint64_t bytes_;
  uint64_t* data_ = nullptr;
};

// Fraction of the pages of [p, p + bytes) resident now (1 when mincore fails).
double ResidentRatio(void* p, uint64_t bytes) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t pages = (bytes + page - 1) / page;
  std::vector<unsigned char> vec(pages);
  if (mincore(p, bytes, vec.data()) != 0) return 1;
  uint64_t resident = 0;
  for (unsigned char v : vec) resident += v & 1;
  return static_cast<double>(resident) / static_cast<double>(pages);
}

// A 64-bit key from the kernel's CSPRNG.
uint64_t FreshKey() {
  uint64_t key = 0;
  if (getrandom(&key, sizeof key, 0) != static_cast<ssize_t>(sizeof key)) {
    key = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&key)) *
          0x9E3779B97F4A7C15ull;  // never fails on Linux >= 3.17
  }
  return key;
}

// /proc/vmstat counter, or 0.
uint64_t VmstatCounter(const std::string& text, std::string_view key) {
  for (std::string_view line : Split(text, '\n')) {
    std::vector<std::string_view> f = SplitWhitespace(line);
    if (f.size() == 2 && f[0] == key) return ParseUint64(f[1]).value_or(0);
  }
  return 0;
}

}  // namespace

void FillPattern(uint64_t* words, uint64_t count, uint64_t key, uint64_t first) {
  for (uint64_t i = 0; i < count; ++i) words[i] = VerifyPatternWord(key, first + i);
}

uint64_t CountPatternMismatches(const uint64_t* words, uint64_t count, uint64_t key, uint64_t first) {
  uint64_t bad = 0;
  for (uint64_t i = 0; i < count; ++i) bad += words[i] != VerifyPatternWord(key, first + i);
  return bad;
}

VerifiedSummary SummarizeUnits(const std::vector<VerifiedUnit>& units, double reference_bytes_per_second,
                               double slow_factor) {
  VerifiedSummary s;
  uint64_t total = 0, slow_units = 0;
  double swapped_bytes = 0;
  for (const VerifiedUnit& u : units) {
    total += u.bytes;
    const double rate = u.verify_seconds > 0 ? static_cast<double>(u.bytes) / u.verify_seconds : 0;
    const bool slow = rate * slow_factor < reference_bytes_per_second;
    s.slow.push_back(slow);
    slow_units += slow;
    swapped_bytes += (1 - u.resident_ratio) * static_cast<double>(u.bytes);
    s.mismatched_words += u.mismatched_words;
    if (!slow && u.mismatched_words == 0)
      s.verified_bytes += static_cast<uint64_t>(u.resident_ratio * static_cast<double>(u.bytes));
  }
  if (!units.empty()) s.slow_ratio = static_cast<double>(slow_units) / static_cast<double>(units.size());
  if (total > 0) s.swapped_ratio = swapped_bytes / static_cast<double>(total);
  return s;
}

std::vector<OptionSpec> MemoryVerifiedOptions() {
  return {
      {"share_of_available",
       OptionType::kDouble,
       0.5,
       0.01,
       0.95,
       {},
       "fraction of MemAvailable to allocate and verify"},
      {"max_bytes", OptionType::kInt, 0, 0, 1.0e15, {}, "cap on the challenge size in bytes (0: no cap)"},
      {"unit_bytes",
       OptionType::kInt,
       1073741824,
       16777216,
       1.0e12,
       {},
       "size of one timed unit (default 1 GiB)"},
      {"slow_factor",
       OptionType::kDouble,
       4.0,
       1.5,
       1000,
       {},
       "a unit is slow when its read-back is this many times slower than the resident reference"},
      {"max_slow_ratio",
       OptionType::kDouble,
       0.01,
       0,
       1,
       {},
       "finding memory_swapped when the slow or swapped fraction exceeds this"},
  };
}

MeterResult MemoryVerifiedMeter::Measure(MeterContext& ctx) {
  const std::string meminfo_path = ctx.Proc("meminfo");
  Result<std::string> meminfo_text = ctx.env->ReadFile(meminfo_path);
  if (!meminfo_text.ok())
    return MeterResult::Unavailable(meminfo_path + ": " + meminfo_text.status().message());
  Result<std::map<std::string, uint64_t>> meminfo = ParseMeminfo(*meminfo_text);
  if (!meminfo.ok()) return MeterResult::Failed(meminfo.status().message());
  if (!meminfo->count("MemAvailable")) return MeterResult::Unavailable(meminfo_path + " has no MemAvailable");
  const uint64_t available = meminfo->at("MemAvailable");
  const double share = ctx.options.Double("share_of_available");
  const uint64_t cap = static_cast<uint64_t>(ctx.options.Int("max_bytes"));
  const uint64_t unit = static_cast<uint64_t>(ctx.options.Int("unit_bytes")) & ~uint64_t{4095};
  uint64_t want = static_cast<uint64_t>(share * static_cast<double>(available));
  if (cap > 0) want = std::min(want, cap);
  const uint64_t units = want / unit;
  if (units == 0) {
    return MeterResult::Unavailable("challenge of " + std::to_string(want) +
                                    " bytes is less than one unit of " + std::to_string(unit) + " bytes");
  }
  const uint64_t bytes = units * unit;
  const uint64_t words_per_unit = unit / sizeof(uint64_t);
  const uint64_t key = FreshKey();
  const std::string vmstat_path = ctx.Proc("vmstat");
  Result<std::string> vmstat_before = ctx.env->ReadFile(vmstat_path);

  // Reference: a 64 MiB buffer written, then read back twice; the faster pass.
  double reference_bps = 0;
  {
    Mapping ref(kReferenceBytes);
    if (!ref.data())
      return MeterResult::Failed(std::string("mmap of the reference buffer: ") + std::strerror(errno));
    const uint64_t words = kReferenceBytes / sizeof(uint64_t);
    FillPattern(ref.data(), words, key, 0);
    for (int pass = 0; pass < 2; ++pass) {
      const double t0 = ctx.env->MonotonicSeconds();
      const uint64_t bad = CountPatternMismatches(ref.data(), words, key, 0);
      const double dt = ctx.env->MonotonicSeconds() - t0;
      if (bad != 0)
        return MeterResult::Failed("reference buffer read back " + std::to_string(bad) + " wrong words");
      if (dt > 0) reference_bps = std::max(reference_bps, static_cast<double>(kReferenceBytes) / dt);
    }
  }

  Mapping map(bytes);
  if (!map.data())
    return MeterResult::Failed("mmap of " + std::to_string(bytes) + " bytes: " + std::strerror(errno));
  ctx.Progress("writing " + std::to_string(bytes >> 20) + " MiB");
  std::vector<double> write_seconds(units, 0);
  for (uint64_t u = 0; u < units; ++u) {
    if (ctx.cancelled()) return MeterResult::Failed("cancelled");
    const double t0 = ctx.env->MonotonicSeconds();
    FillPattern(map.data() + u * words_per_unit, words_per_unit, key, u * words_per_unit);
    write_seconds[u] = ctx.env->MonotonicSeconds() - t0;
  }
  ctx.Progress("reading back " + std::to_string(bytes >> 20) + " MiB");
  // Newest unit first: under memory pressure the kernel keeps the most
  // recently written units, so they are checked while still resident,
  // before faulting older units back in evicts them (oldest first would
  // find every unit just evicted by its predecessor's read-back).
  std::vector<VerifiedUnit> results(units);
  for (uint64_t v = units; v-- > 0;) {
    const uint64_t u = v;
    if (ctx.cancelled()) return MeterResult::Failed("cancelled");
    uint64_t* p = map.data() + u * words_per_unit;
    results[u].bytes = unit;
    results[u].resident_ratio = ResidentRatio(p, unit);
    const double t0 = ctx.env->MonotonicSeconds();
    results[u].mismatched_words = CountPatternMismatches(p, words_per_unit, key, u * words_per_unit);
    results[u].verify_seconds = ctx.env->MonotonicSeconds() - t0;
  }
  Result<std::string> vmstat_after = ctx.env->ReadFile(vmstat_path);

  const double slow_factor = ctx.options.Double("slow_factor");
  const VerifiedSummary sum = SummarizeUnits(results, reference_bps, slow_factor);
  nlohmann::json per_unit = nlohmann::json::array();
  for (uint64_t u = 0; u < units; ++u) {
    const VerifiedUnit& r = results[u];
    per_unit.push_back(
        {{"write_bytes_per_second", write_seconds[u] > 0 ? static_cast<double>(unit) / write_seconds[u] : 0},
         {"verify_bytes_per_second", r.verify_seconds > 0 ? static_cast<double>(unit) / r.verify_seconds : 0},
         {"resident_ratio", r.resident_ratio},
         {"mismatched_words", r.mismatched_words},
         {"slow", static_cast<bool>(sum.slow[u])}});
  }

  MeterResult result = MeterResult::Ok();
  auto& c = result.claims;
  SetClaim(c, kMemVerifiedMethod, "keyed_pattern_write_verify");
  SetClaim(c, kMemVerifiedChallengeBytes, bytes);
  SetClaim(c, kMemVerifiedBytes, sum.verified_bytes);
  SetClaim(c, kMemVerifiedSlowRatio, sum.slow_ratio);
  SetClaim(c, kMemVerifiedSwappedRatio, sum.swapped_ratio);
  SetClaim(c, kMemVerifiedMismatchedWords, sum.mismatched_words);
  SetClaim(c, kMemVerifiedReferenceBps, reference_bps);
  SetClaim(c, kMemVerifiedUnits, per_unit);
  auto& k = result.conditions;
  k["mem_available_bytes"] = available;
  k["share_of_available"] = share;
  k["max_bytes"] = cap;
  k["unit_bytes"] = unit;
  k["slow_factor"] = slow_factor;
  k["reference_bytes"] = kReferenceBytes;
  if (vmstat_before.ok() && vmstat_after.ok()) {
    k["guest_swap_in_pages"] =
        VmstatCounter(*vmstat_after, "pswpin") -
        std::min(VmstatCounter(*vmstat_after, "pswpin"), VmstatCounter(*vmstat_before, "pswpin"));
    k["guest_swap_out_pages"] =
        VmstatCounter(*vmstat_after, "pswpout") -
        std::min(VmstatCounter(*vmstat_after, "pswpout"), VmstatCounter(*vmstat_before, "pswpout"));
  }
  const double max_slow = ctx.options.Double("max_slow_ratio");
  if (sum.slow_ratio > max_slow || sum.swapped_ratio > max_slow) {
    Finding f;
    f.code = "memory_swapped";
    f.message =
        "part of the challenged memory was not served from RAM (swapped or compressed by the guest or the "
        "host)";
    f.details = {{"slow_ratio", sum.slow_ratio},
                 {"swapped_ratio", sum.swapped_ratio},
                 {"challenge_bytes", bytes},
                 {"verified_bytes", sum.verified_bytes},
                 {"max_slow_ratio", max_slow}};
    result.findings.push_back(std::move(f));
  }
  if (sum.mismatched_words > 0) {
    Finding f;
    f.code = "memory_corrupted";
    f.message = "words read back differ from what was written";
    f.details = {{"mismatched_words", sum.mismatched_words}};
    result.findings.push_back(std::move(f));
  }
  return result;
}

}  // namespace resmeter
