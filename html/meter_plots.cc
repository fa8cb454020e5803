#include "html/meter_plots.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "core/fio_latency_bins.h"
#include "core/json_fields.h"
#include "core/strings.h"
#include "html/html_text.h"
#include "html/svg_chart.h"

namespace resmeter::html {
namespace {

using json = nlohmann::json;

bool Num(const json& obj, const std::string& key, double* out) {
  if (!obj.is_object()) return false;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return false;
  *out = it->get<double>();
  return std::isfinite(*out);
}

std::string Str(const json& obj, const char* key) {
  const json& v = JsonMember(obj, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

// --- cache.hierarchy -------------------------------------------------------

std::vector<std::string> CachePlots(const json& claims, const json& conditions, const json& submods) {
  const json& curve = JsonMember(claims, "latency_curve");
  if (!curve.is_array() || curve.empty()) return {};
  XyChart c;
  c.id = "cache.latency_curve";
  c.title = "Cache: load-to-use latency against working-set size";
  c.note =
      "Random pointer chase, fastest run per size; solid lines: levels detected from the curve; dashed: "
      "sizes "
      "the platform reports.";
  c.x = {"working-set size", "B", AxisScale::kLog};
  c.y = {"latency", "ns", AxisScale::kLog};
  Series s{"measured latency", {}, SeriesStyle::kLine, 0};
  for (const auto& p : curve) {
    double size = 0, lat = 0;
    if (Num(p, "size_bytes", &size) && Num(p, "latency_seconds", &lat)) s.points.push_back({size, lat * 1e9});
  }
  c.series.push_back(std::move(s));
  if (const json& levels = JsonMember(claims, "levels"); levels.is_array()) {
    for (const auto& l : levels) {
      double size = 0, level = 0, lat = 0;
      if (!Num(l, "measured_size_bytes", &size)) continue;
      Num(l, "level", &level);
      std::string label = "L" + Number(level, 2) + " detected " + TickText(size, {"", "B", AxisScale::kLog});
      if (Num(l, "latency_seconds", &lat)) label += ", " + Number(lat * 1e9, 3) + " ns";
      c.x_markers.push_back({size, label, 1, false});
    }
  }
  if (const json& rep = JsonMember(conditions, "reported_levels"); rep.is_array()) {
    for (const auto& l : rep) {
      double size = 0, level = 0;
      if (!Num(l, "size_bytes", &size)) continue;
      Num(l, "level", &level);
      c.x_markers.push_back({size,
                             "L" + Number(level, 2) + Str(l, "type").substr(0, 1) + " reported " +
                                 TickText(size, {"", "B", AxisScale::kLog}),
                             2, true});
    }
  }
  double mem = 0;
  if (Num(JsonMember(JsonMember(submods, "memory.latency"), "claims"), "latency_seconds", &mem))
    c.y_markers.push_back({mem * 1e9, "memory.latency " + Number(mem * 1e9, 3) + " ns", 3, true});
  return {RenderXyChart(c)};
}

// --- disk.io ---------------------------------------------------------------

// Workload names in the order the claims list them: every "<w>_ios_per_second".
std::vector<std::string> DiskWorkloads(const json& claims) {
  std::vector<std::string> out;
  if (!claims.is_object()) return out;
  for (auto it = claims.begin(); it != claims.end(); ++it) {
    const std::string& k = it.key();
    static const std::string kSuffix = "_ios_per_second";
    if (k.size() > kSuffix.size() && EndsWith(k, kSuffix) && it->is_number())
      out.push_back(k.substr(0, k.size() - kSuffix.size()));
  }
  return out;
}

// The policy bounds that apply to a disk workload ("rand_read_qd32") and metric ("iops").
std::vector<Marker> DiskBounds(const std::string& workload, const std::string& metric, double scale,
                               const std::vector<ClauseBound>& bounds) {
  std::vector<Marker> out;
  const size_t qd = workload.rfind("_qd");
  const std::string kind = qd == std::string::npos ? workload : workload.substr(0, qd);
  const std::string depth = qd == std::string::npos ? "" : "qd=" + workload.substr(qd + 3);
  for (const auto& b : bounds) {
    if (b.claim != "disk." + kind + "_" + metric) continue;
    if (!b.qualifier.empty() && b.qualifier != depth) continue;
    out.push_back({b.value * scale, "policy " + b.text, b.passed ? 2 : 1, true});
  }
  return out;
}

// Histogram bins of a claim object in fio's json+ layout ({"bins": {"VALUE_NS": COUNT}}), with their bounds.
struct Bin {
  double lower = 0, upper = 0, count = 0;
};
std::vector<Bin> HistogramBins(const json& histogram) {
  std::vector<Bin> out;
  for (const auto& [value, count] : FioBinsFromJson(JsonMember(histogram, "bins"))) {
    if (count == 0) continue;
    const int i = FioBinIndex(value);
    out.push_back({static_cast<double>(FioBinLower(i)), static_cast<double>(FioBinUpper(i)),
                   static_cast<double>(count)});
  }
  return out;
}

// A distribution as a step line: the share of samples per bin, in percent, against latency in seconds.
Series DistributionSeries(const std::vector<Bin>& bins, const std::string& name) {
  double total = 0;
  for (const auto& b : bins) total += b.count;
  Series s{name, {}, SeriesStyle::kSteps, 0};
  double prev_upper = -1;
  for (const auto& b : bins) {
    if (prev_upper >= 0 && b.lower > prev_upper) s.points.push_back({prev_upper * 1e-9, 0});
    s.points.push_back({std::max(b.lower, 1.0) * 1e-9, 100 * b.count / total});
    prev_upper = b.upper;
  }
  if (!bins.empty()) s.points.push_back({bins.back().upper * 1e-9, 0});
  return s;
}

std::vector<std::string> DiskPlots(const json& claims, const std::vector<ClauseBound>& bounds) {
  std::vector<std::string> out;
  const std::vector<std::string> workloads = DiskWorkloads(claims);
  if (workloads.empty()) return out;
  // Latency distribution per workload.
  for (const auto& w : workloads) {
    XyChart c;
    c.id = "disk.latency." + w;
    c.x = {"completion latency", "s", AxisScale::kLog};
    const std::vector<Bin> bins = HistogramBins(JsonMember(claims, (w + "_latency_histogram").c_str()));
    if (!bins.empty()) {
      c.title = "Disk " + w + ": completion latency distribution";
      c.note =
          "From the signed histogram bins (fio json+ layout, 64 bins per power of two): the share of I/Os "
          "per bin.";
      c.y = {"share of I/Os per bin", "%", AxisScale::kLinear, true};
      c.series.push_back(DistributionSeries(bins, "I/Os per bin"));
    } else {
      c.title = "Disk " + w + ": completion latency percentiles";
      c.note =
          "The report carries percentiles only (no histogram bins): the share of I/Os completed within each "
          "latency.";
      c.y = {"I/Os completed within", "%", AxisScale::kLinear, true};
      Series s{"percentile", {}, SeriesStyle::kLine, 0};
      const std::pair<const char*, double> kRanks[] = {{"min", 0},  {"p50", 50},    {"p90", 90},
                                                       {"p99", 99}, {"p999", 99.9}, {"max", 100}};
      for (const auto& [p, rank] : kRanks) {
        double v = 0;
        if (Num(claims, w + "_latency_" + p + "_seconds", &v)) s.points.push_back({v, rank});
      }
      if (s.points.empty()) continue;
      c.series.push_back(std::move(s));
    }
    const std::pair<const char*, const char*> kMarks[] = {{"p50", "p50"}, {"p99", "p99"}, {"p999", "p99.9"}};
    int color = 1;
    for (const auto& [key, label] : kMarks) {
      double v = 0;
      if (Num(claims, w + "_latency_" + key + "_seconds", &v))
        c.x_markers.push_back({v, std::string(label) + " " + WithUnit(v, "s"), color, true});
      ++color;
    }
    out.push_back(RenderXyChart(c));
  }
  // IOPS and bandwidth per workload, with the policy's bounds.
  for (const auto& [metric, key, unit, title, policy_metric, scale] :
       {std::tuple{"iops", "_ios_per_second", "IOPS", "Disk: I/O operations per second per workload", "iops",
                   1.0},
        std::tuple{"bandwidth", "_bytes_per_second", "B/s", "Disk: bandwidth per workload", "mb_per_second",
                   1e6}}) {
    BarChart b;
    b.id = std::string("disk.") + metric;
    b.title = title;
    b.value_axis = {metric == std::string("iops") ? "operations per second" : "bandwidth", unit,
                    AxisScale::kLinear};
    for (const auto& w : workloads) {
      double v = 0;
      if (!Num(claims, w + key, &v)) continue;
      bool bad = false;
      for (Marker& m : DiskBounds(w, policy_metric, scale, bounds)) {
        bad = bad || m.color == 1;
        m.label = w + ": " + m.label;
        b.reference_lines.push_back(std::move(m));
      }
      b.bars.push_back({w, v, bad});
    }
    if (!b.bars.empty()) out.push_back(RenderBarChart(b));
  }
  return out;
}

// --- cpu -------------------------------------------------------------------

std::vector<std::string> ThrottlingPlots(const json& claims, const json& conditions) {
  const json& samples = JsonMember(claims, "all_core_hz_samples");
  if (!samples.is_array() || samples.empty()) return {};
  double step = 0;
  if (!Num(conditions, "sample_seconds", &step) || step <= 0) step = 1;
  XyChart c;
  c.id = "cpu.throttling.frequency";
  c.title = "CPU: all-core frequency over the sustained window";
  c.note = "Mean over all vCPUs per sample; a falling line is throttling.";
  c.x = {"time since start", "s", AxisScale::kLinear, true};
  c.y = {"frequency", "Hz", AxisScale::kLinear, true};
  Series s{"all-core frequency", {}, SeriesStyle::kLine, 0};
  for (size_t k = 0; k < samples.size(); ++k)
    if (samples[k].is_number())
      s.points.push_back({(static_cast<double>(k) + 0.5) * step, samples[k].get<double>()});
  c.series.push_back(std::move(s));
  double v = 0;
  if (Num(claims, "burst_hz", &v)) c.y_markers.push_back({v, "burst " + WithUnit(v, "Hz"), 2, true});
  if (Num(claims, "sustained_hz", &v)) c.y_markers.push_back({v, "sustained " + WithUnit(v, "Hz"), 1, true});
  return {RenderXyChart(c)};
}

std::vector<std::string> FrequencyPlots(const json& claims, const json& submods) {
  std::vector<std::string> out;
  BarChart b;
  b.id = "cpu.frequency.levels";
  b.title = "CPU: single-core burst, all-core and nominal frequency";
  b.value_axis = {"frequency", "Hz", AxisScale::kLinear};
  double v = 0;
  if (Num(claims, "single_core_burst_hz", &v)) b.bars.push_back({"single-core burst", v, false});
  if (Num(claims, "all_core_hz", &v)) b.bars.push_back({"all-core", v, false});
  if (Num(JsonMember(JsonMember(submods, "cpu.throttling"), "claims"), "sustained_hz", &v))
    b.bars.push_back({"all-core sustained (cpu.throttling)", v, false});
  if (Num(claims, "tsc_hz", &v)) b.bars.push_back({"TSC", v, false});
  if (Num(claims, "nominal_hz", &v)) {
    b.bars.push_back({"nominal (platform)", v, false});
    b.reference_lines.push_back({v, "nominal", 2, true});
  }
  if (!b.bars.empty()) out.push_back(RenderBarChart(b));
  const json& per_core = JsonMember(claims, "per_core");
  if (per_core.is_array() && !per_core.empty()) {
    BarChart p;
    p.id = "cpu.frequency.per_core";
    p.title = "CPU: single-core frequency per vCPU";
    p.value_axis = {"frequency", "Hz", AxisScale::kLinear};
    for (const auto& e : per_core) {
      double hz = 0, cpu = 0;
      if (Num(e, "single_core_hz", &hz) && Num(e, "cpu", &cpu))
        p.bars.push_back({"cpu " + Number(cpu, 6), hz});
    }
    if (!p.bars.empty()) out.push_back(RenderBarChart(p));
  }
  return out;
}

std::vector<std::string> AvailabilityPlots(const json& claims) {
  const json& per_cpu = JsonMember(claims, "per_cpu");
  if (!per_cpu.is_array() || per_cpu.empty()) return {};
  BarChart b;
  b.id = "cpu.availability.per_cpu";
  b.title = "CPU: availability per vCPU";
  b.note =
      "Work done over what the fastest rate would do in the entitled time; 100 % = the vCPU was never "
      "taken away.";
  b.value_axis = {"availability", "%", AxisScale::kLinear};
  for (const auto& e : per_cpu) {
    double r = 0, cpu = 0;
    if (Num(e, "availability_ratio", &r) && Num(e, "cpu", &cpu))
      b.bars.push_back({"vCPU " + Number(cpu, 6), 100 * r, r < 0.9});
  }
  b.reference_lines.push_back({100, "100 %", 2, true});
  return {RenderBarChart(b)};
}

// --- memory ----------------------------------------------------------------

std::vector<std::string> BandwidthPlots(const json& claims) {
  BarChart b;
  b.id = "memory.bandwidth.kernels";
  b.title = "Memory: STREAM kernel bandwidth (best and mean repetition)";
  b.value_axis = {"bandwidth", "B/s", AxisScale::kLinear};
  for (const char* k : {"copy", "scale", "add", "triad"}) {
    double v = 0;
    if (Num(claims, std::string(k) + "_bytes_per_second", &v))
      b.bars.push_back({std::string(k) + " best", v});
    if (Num(claims, std::string(k) + "_mean_bytes_per_second", &v))
      b.bars.push_back({std::string(k) + " mean", v});
  }
  if (b.bars.empty()) return {};
  return {RenderBarChart(b)};
}

// --- net -------------------------------------------------------------------

std::vector<std::string> ThroughputPlots(const json& claims) {
  const json& targets = JsonMember(claims, "targets");
  if (!targets.is_array()) return {};
  BarChart b;
  b.id = "net.throughput.peers";
  b.title = "Network: throughput per peer and direction";
  b.value_axis = {"throughput", "bit/s", AxisScale::kLinear};
  for (const auto& t : targets) {
    const std::string peer = Str(t, "target");
    double v = 0;
    if (Num(t, "upload_bps", &v)) b.bars.push_back({peer + " upload", v});
    if (Num(t, "download_bps", &v)) b.bars.push_back({peer + " download", v});
  }
  if (b.bars.empty()) return {};
  return {RenderBarChart(b)};
}

std::vector<std::string> LatencyPlots(const json& claims) {
  const json& targets = JsonMember(claims, "targets");
  if (!targets.is_array()) return {};
  std::vector<std::string> out;
  for (const auto& t : targets) {
    const std::string peer = Str(t, "target");
    XyChart c;
    c.id = "net.latency.rtt." + peer;
    c.x = {"round-trip time", "s", AxisScale::kLog};
    const std::vector<Bin> bins = HistogramBins(JsonMember(t, "rtt_histogram"));
    if (!bins.empty()) {
      c.title = "Network " + peer + ": round-trip time distribution";
      c.note = "From the signed RTT histogram (fio json+ layout): the share of probes per bin.";
      c.y = {"share of probes per bin", "%", AxisScale::kLinear, true};
      c.series.push_back(DistributionSeries(bins, "probes per bin"));
    } else {
      c.title = "Network " + peer + ": round-trip time percentiles";
      c.note = "The report carries percentiles only: the share of probes answered within each time.";
      c.y = {"probes answered within", "%", AxisScale::kLinear, true};
      Series s{"percentile", {}, SeriesStyle::kLine, 0};
      for (const auto& [key, rank] :
           {std::pair{"rtt_min_seconds", 0.0}, std::pair{"rtt_p50_seconds", 50.0},
            std::pair{"rtt_p99_seconds", 99.0}, std::pair{"rtt_max_seconds", 100.0}}) {
        double v = 0;
        if (Num(t, key, &v)) s.points.push_back({v, rank});
      }
      if (s.points.empty()) continue;
      c.series.push_back(std::move(s));
    }
    double v = 0;
    if (Num(t, "rtt_p50_seconds", &v)) c.x_markers.push_back({v, "p50 " + WithUnit(v, "s"), 1, true});
    if (Num(t, "rtt_p99_seconds", &v)) c.x_markers.push_back({v, "p99 " + WithUnit(v, "s"), 2, true});
    out.push_back(RenderXyChart(c));
    if (out.size() >= 16) break;
  }
  return out;
}

// --- gpu -------------------------------------------------------------------

std::vector<std::string> GpuComputePlots(const json& claims) {
  const json& devices = JsonMember(claims, "devices");
  if (!devices.is_array()) return {};
  BarChart b;
  b.id = "gpu.compute.rate";
  b.title = "GPU: measured FP32 matrix-multiply rate against the model's peak";
  b.value_axis = {"rate", "FLOP/s", AxisScale::kLinear};
  for (const auto& d : devices) {
    double v = 0, peak = 0, ordinal = 0;
    Num(d, "ordinal", &ordinal);
    std::string name = Str(d, "name");
    if (name.empty()) name = "GPU " + Number(ordinal, 3);
    if (Num(d, "fp32_matmul_flops_per_second", &v)) b.bars.push_back({name + " measured", v});
    if (Num(d, "reference_peak_fp32_flops_per_second", &peak)) b.bars.push_back({name + " model peak", peak});
  }
  if (b.bars.empty()) return {};
  return {RenderBarChart(b)};
}

}  // namespace

std::vector<ClauseBound> ParseClauseBounds(const json& policy) {
  std::vector<ClauseBound> out;
  const json& clauses = JsonMember(policy, "clauses");
  if (!clauses.is_array()) return out;
  for (const auto& c : clauses) {
    ClauseBound b;
    std::string name = Str(c, "name");
    b.text = Str(c, "required");
    const json& passed = JsonMember(c, "passed");
    b.passed = passed.is_boolean() && passed.get<bool>();
    if (auto open = name.find('['); open != std::string::npos && name.back() == ']') {
      b.qualifier = name.substr(open + 1, name.size() - open - 2);
      name.resize(open);
    }
    b.claim = name;
    // The first number in "required" (">= 1000 IOPS", "1 .. 4 GHz").
    const char* p = b.text.c_str();
    while (*p && !((*p >= '0' && *p <= '9') || (*p == '-' && p[1] >= '0' && p[1] <= '9'))) ++p;
    if (!*p) continue;
    char* end = nullptr;
    b.value = std::strtod(p, &end);
    if (end == p || !std::isfinite(b.value)) continue;
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<std::string> MeterPlots(const std::string& name, const json& submod, const json& submods,
                                    const std::vector<ClauseBound>& bounds) {
  const json& claims = JsonMember(submod, "claims");
  const json& conditions = JsonMember(submod, "conditions");
  if (!claims.is_object()) return {};
  if (name == "cache.hierarchy") return CachePlots(claims, conditions, submods);
  if (name == "disk.io") return DiskPlots(claims, bounds);
  if (name == "cpu.throttling") return ThrottlingPlots(claims, conditions);
  if (name == "cpu.frequency") return FrequencyPlots(claims, submods);
  if (name == "cpu.availability") return AvailabilityPlots(claims);
  if (name == "memory.bandwidth") return BandwidthPlots(claims);
  if (name == "net.throughput") return ThroughputPlots(claims);
  if (name == "net.latency") return LatencyPlots(claims);
  if (name == "gpu.compute") return GpuComputePlots(claims);
  return {};
}

}  // namespace resmeter::html
