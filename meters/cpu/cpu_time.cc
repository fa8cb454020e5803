#include "meters/cpu/cpu_time.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/strings.h"

namespace resmeter {
namespace {

// Findings list at most this many counters each, so a 256-CPU reset stays small.
constexpr size_t kMaxCountersPerFinding = 16;

enum class StepKind { kOk, kWrapped, kBackwards, kReset };

// One counter's change between readings, interpreted.
struct Step {
  uint64_t ticks = 0;
  StepKind kind = StepKind::kOk;
};

// Interprets after-before for a counter that may wrap at 32 or 64 bits.
// `plausible` is the most ticks one state can gain in the window.
Step CounterStep(uint64_t before, uint64_t after, uint64_t plausible) {
  if (after >= before) return {after - before, StepKind::kOk};
  constexpr uint64_t k32 = uint64_t{1} << 32;
  if (before < k32 && (k32 - before) + after <= plausible)
    return {(k32 - before) + after, StepKind::kWrapped};
  const uint64_t mod64 = after - before;  // unsigned arithmetic: the 64-bit wrap distance
  if (mod64 <= plausible) return {mod64, StepKind::kWrapped};
  if (before - after <= plausible) return {0, StepKind::kBackwards};
  return {0, StepKind::kReset};
}

// Collects anomalies by finding code before they become Findings.
struct AnomalyLog {
  std::map<std::string, nlohmann::json> counters;  // code -> array of {cpu, state, before, after}
  std::map<std::string, size_t> totals;

  void Add(const std::string& code, int cpu, const char* state, uint64_t before, uint64_t after) {
    auto& list = counters[code];
    if (list.is_null()) list = nlohmann::json::array();
    if (list.size() < kMaxCountersPerFinding) {
      list.push_back({{"cpu", cpu}, {"state", state}, {"before", before}, {"after", after}});
    }
    totals[code]++;
  }
};

// The human line for each anomaly code.
std::string AnomalyMessage(const std::string& code, size_t n) {
  std::string count = std::to_string(n) + (n == 1 ? " counter" : " counters");
  if (code == "counter_wrapped") return count + " wrapped; the wrapped distance was used";
  if (code == "counter_went_backwards") return count + " went backwards slightly; counted as zero";
  return count + " went backwards far (CPU reset or hot-plugged); those CPUs' samples were discarded";
}

// Parses one "cpu..." line's counters.
Result<CpuTicks> ParseCpuLine(std::string_view line, const std::vector<std::string_view>& fields) {
  CpuTicks t;
  for (size_t i = 1; i < fields.size() && i <= static_cast<size_t>(kCpuStates); ++i) {
    std::optional<uint64_t> v = ParseUint64(fields[i]);
    if (!v)
      return Status::Corruption("/proc/stat: bad counter '" + std::string(fields[i]) + "' in line '" +
                                std::string(line) + "'");
    t.ticks[i - 1] = *v;
    t.fields = static_cast<int>(i);
  }
  for (size_t i = kCpuStates + 1; i < fields.size(); ++i) {  // guest, guest_nice: validate only
    if (!ParseUint64(fields[i])) {
      return Status::Corruption("/proc/stat: bad counter '" + std::string(fields[i]) + "' in line '" +
                                std::string(line) + "'");
    }
  }
  if (t.fields < 4)
    return Status::Corruption("/proc/stat: fewer than 4 counters in line '" + std::string(line) + "'");
  return t;
}

}  // namespace

Result<ProcStat> ParseProcStat(std::string_view text) {
  ProcStat stat;
  for (std::string_view line : Split(text, '\n')) {
    if (!StartsWith(line, "cpu")) continue;
    std::vector<std::string_view> fields = SplitWhitespace(line);
    if (fields.empty()) continue;
    RESMETER_ASSIGN_OR_RETURN(CpuTicks ticks, ParseCpuLine(line, fields));
    if (fields[0] == "cpu") {
      stat.aggregate = ticks;
      continue;
    }
    std::optional<int64_t> n = ParseInt64(fields[0].substr(3));
    if (!n || *n < 0 || *n > 1'000'000) {
      return Status::Corruption("/proc/stat: bad cpu name '" + std::string(fields[0]) + "'");
    }
    if (!stat.cpus.emplace(static_cast<int>(*n), ticks).second) {
      return Status::Corruption("/proc/stat: duplicate line for " + std::string(fields[0]));
    }
  }
  return stat;
}

Result<CpuTimeWindow> ComputeCpuTimeWindow(const ProcStat& t0, const ProcStat& t1, double wall_seconds,
                                           double user_hz) {
  if (!(wall_seconds > 0) || !(user_hz > 0)) {
    return Status::InvalidArgument("cpu.time: window " + std::to_string(wall_seconds) + " s and USER_HZ " +
                                   std::to_string(user_hz) + " must be positive");
  }
  if (t0.cpus.empty() || t1.cpus.empty()) return Status::Corruption("/proc/stat: no per-CPU lines");
  CpuTimeWindow w;
  w.wall_seconds = wall_seconds;
  w.user_hz = user_hz;
  w.vcpus = static_cast<int>(t1.cpus.size());
  const double window_ticks = wall_seconds * user_hz;
  // One state cannot gain more than the window; allow 50% + 2 ticks of accounting jitter.
  const auto plausible = static_cast<uint64_t>(std::ceil(window_ticks * 1.5)) + 2;

  AnomalyLog log;
  std::vector<int> changed;  // CPUs present in only one reading
  uint64_t all_ticks = 0, steal_ticks = 0;
  std::array<uint64_t, kCpuStates> total_ticks{};  // divided once at the end: no float drift
  bool steal_reported = true;
  std::vector<int> overfull;
  for (const auto& [cpu, before] : t0.cpus) {
    if (!t1.cpus.count(cpu)) changed.push_back(cpu);
  }
  for (const auto& [cpu, after] : t1.cpus) {
    CpuSeconds s;
    s.cpu = cpu;
    auto it = t0.cpus.find(cpu);
    if (it == t0.cpus.end()) {
      changed.push_back(cpu);
      w.per_cpu.push_back(s);
      continue;
    }
    const CpuTicks& before = it->second;
    const int fields = std::min(before.fields, after.fields);
    std::array<Step, kCpuStates> steps{};
    bool reset = false;
    for (int i = 0; i < fields; ++i) {
      steps[i] = CounterStep(before.ticks[i], after.ticks[i], plausible);
      reset = reset || steps[i].kind == StepKind::kReset;
    }
    // A reset CPU reports every counter that went down as reset; others by kind.
    for (int i = 0; i < fields; ++i) {
      const char* code = nullptr;
      if (steps[i].kind == StepKind::kOk) continue;
      if (reset) {
        code = "counter_reset";
      } else {
        code = steps[i].kind == StepKind::kWrapped ? "counter_wrapped" : "counter_went_backwards";
      }
      log.Add(code, cpu, kCpuStateNames[i], before.ticks[i], after.ticks[i]);
    }
    if (reset) {
      w.per_cpu.push_back(s);
      continue;
    }
    std::array<uint64_t, kCpuStates> delta{};
    for (int i = 0; i < fields; ++i) delta[i] = steps[i].ticks;
    s.sampled = true;
    uint64_t cpu_ticks = 0;
    for (int i = 0; i < kCpuStates; ++i) {
      s.seconds[i] = static_cast<double>(delta[i]) / user_hz;
      total_ticks[i] += delta[i];
      cpu_ticks += delta[i];
    }
    if (static_cast<double>(cpu_ticks) > window_ticks * 1.25 + 2) overfull.push_back(cpu);
    all_ticks += cpu_ticks;
    steal_ticks += delta[kStealIndex];
    steal_reported = steal_reported && fields > kStealIndex;
    w.vcpus_sampled++;
    w.per_cpu.push_back(s);
  }
  std::sort(w.per_cpu.begin(), w.per_cpu.end(),
            [](const CpuSeconds& a, const CpuSeconds& b) { return a.cpu < b.cpu; });

  uint64_t busy_ticks = 0;
  for (int i = 0; i < kCpuStates; ++i) {
    w.total_seconds[i] = static_cast<double>(total_ticks[i]) / user_hz;
    if (i != 3 && i != 4 && i != kStealIndex) busy_ticks += total_ticks[i];  // not idle, iowait, steal
  }
  w.busy_seconds = static_cast<double>(busy_ticks) / user_hz;
  w.steal_reported = steal_reported && w.vcpus_sampled > 0;
  if (w.steal_reported) {
    const double steal = w.total_seconds[kStealIndex];
    w.delivered_vcpu_seconds = std::max(0.0, wall_seconds * w.vcpus_sampled - steal);
    if (all_ticks > 0) w.steal_ratio = static_cast<double>(steal_ticks) / static_cast<double>(all_ticks);
  }

  for (const auto& [code, list] : log.counters) {
    w.findings.push_back(
        {code, AnomalyMessage(code, log.totals[code]), {{"counters", list}, {"count", log.totals[code]}}});
  }
  if (!changed.empty()) {
    std::sort(changed.begin(), changed.end());
    w.findings.push_back({"cpu_set_changed",
                          "CPUs appeared or disappeared during the window; not sampled",
                          {{"cpus", changed}}});
  }
  if (!overfull.empty()) {
    w.findings.push_back({"cpu_ticks_exceed_window",
                          "CPUs accounted more time than the window lasted (more than 125% + 2 ticks)",
                          {{"cpus", overfull}, {"window_ticks", window_ticks}}});
  }
  return w;
}

MeterResult CpuTimeResult(const CpuTimeWindow& w) {
  MeterResult r = MeterResult::Ok();
  r.claims["window_seconds"] = w.wall_seconds;
  r.claims["vcpus"] = w.vcpus;
  r.claims["vcpus_sampled"] = w.vcpus_sampled;
  for (int i = 0; i < kCpuStates; ++i) {
    if (i == kStealIndex && !w.steal_reported) continue;
    r.claims[std::string(kCpuStateNames[i]) + "_seconds"] = w.total_seconds[i];
  }
  r.claims["busy_seconds"] = w.busy_seconds;
  if (w.steal_reported) {
    r.claims["delivered_vcpu_seconds"] = w.delivered_vcpu_seconds;
    if (w.steal_ratio) r.claims["steal_ratio"] = *w.steal_ratio;
  }
  nlohmann::json per_cpu = nlohmann::json::array();
  for (const auto& c : w.per_cpu) {
    nlohmann::json j = {{"cpu", c.cpu}, {"sampled", c.sampled}};
    if (c.sampled) {
      for (int i = 0; i < kCpuStates; ++i) {
        if (i == kStealIndex && !w.steal_reported) continue;
        j[std::string(kCpuStateNames[i]) + "_seconds"] = c.seconds[i];
      }
    }
    per_cpu.push_back(std::move(j));
  }
  r.claims["per_cpu"] = std::move(per_cpu);

  r.conditions["source"] = "/proc/stat read twice";
  r.conditions["user_hz"] = w.user_hz;
  r.conditions["busy_definition"] = "user + nice + system + irq + softirq (guest is inside user/nice)";
  if (w.steal_reported) {
    r.conditions["delivered_definition"] = "window_seconds x vcpus_sampled - steal_seconds";
    r.conditions["steal_ratio_definition"] = "steal ticks / all accounted ticks of sampled CPUs";
  } else {
    r.conditions["steal_unavailable"] =
        "the kernel's /proc/stat has no steal column; steal, delivered "
        "vCPU-seconds and steal ratio are not reported";
  }
  r.findings = w.findings;
  return r;
}

MeterResult CpuTimeMeter::Measure(MeterContext& ctx) {
  const std::string path = ctx.Proc("stat");
  const double window = ctx.options.Has("window_seconds") ? ctx.options.Double("window_seconds") : 1.0;
  const long hz = ::sysconf(_SC_CLK_TCK);
  if (hz <= 0) return MeterResult::Unavailable("sysconf(_SC_CLK_TCK) gave no USER_HZ");

  Result<std::string> first = ctx.env->ReadFile(path);
  if (!first.ok()) {
    if (first.status().code() == Status::Code::kNotFound)
      return MeterResult::Unavailable(path + " is missing");
    return MeterResult::Failed(first.status().message());
  }
  const double start = ctx.env->MonotonicSeconds();
  Result<ProcStat> t0 = ParseProcStat(*first);
  if (!t0.ok()) return MeterResult::Failed(t0.status().message());

  // Sleep in slices so a timeout can stop us mid-window.
  constexpr double kSliceSeconds = 0.25;
  for (double left = window; left > 1e-9 && !ctx.cancelled();
       left = window - (ctx.env->MonotonicSeconds() - start)) {
    ctx.env->SleepFor(std::min(left, kSliceSeconds));
  }
  if (ctx.cancelled()) return MeterResult::Failed("cancelled before the sampling window ended");

  Result<std::string> second = ctx.env->ReadFile(path);
  const double wall = ctx.env->MonotonicSeconds() - start;
  if (!second.ok()) return MeterResult::Failed(second.status().message());
  Result<ProcStat> t1 = ParseProcStat(*second);
  if (!t1.ok()) return MeterResult::Failed(t1.status().message());

  Result<CpuTimeWindow> w = ComputeCpuTimeWindow(*t0, *t1, wall, static_cast<double>(hz));
  if (!w.ok()) return MeterResult::Failed(w.status().message());
  MeterResult r = CpuTimeResult(*w);
  r.conditions["window_seconds_requested"] = window;
  r.conditions["path"] = path;
  return r;
}

}  // namespace resmeter
