#include "meters/disk/disk_io.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "claims/disk_claim_specs.h"
#include "meters/api/latency_histogram_fio.h"
#include "meters/disk/disk_latency_modes.h"
#include "meters/disk/disk_target.h"
#include "meters/disk/disk_workload_plan.h"

namespace resmeter {
namespace {

// Rough seconds to fill the scratch file, assuming a slow 100 MB/s disk.
double FillSecondsEstimate(uint64_t bytes) { return static_cast<double>(bytes) / 100e6; }

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", s);
  return buf;
}

}  // namespace

Result<IoJobStats> RunDiskWorkload(IoEngine& engine, const IoJob& job) {
  if (job.workload.op == IoOp::kFsync) return RunFsyncJob(job);
  return engine.Run(job);
}

void AddDiskWorkloadClaims(const DiskWorkload& w, const IoJobStats& s, nlohmann::json* claims) {
  nlohmann::json& c = *claims;
  // fsync has its own keys; every other workload is a member of the
  // {workload}_qd{queue_depth}_* families (claims/disk_claim_specs.h).
  const bool fsync = w.op == IoOp::kFsync;
  const DiskWorkloadSpecs& k = fsync ? kDiskFsyncSpecs : kDiskQueueDepthSpecs;
  const ClaimBindings b = fsync ? ClaimBindings{}
                                : ClaimBindings{{"workload", w.name.substr(0, w.name.rfind("_qd"))},
                                                {"queue_depth", std::to_string(w.queue_depth)}};
  SetClaim(c, *k.bytes_per_second, b, s.BytesPerSecond());
  SetClaim(c, *k.ios_per_second, b, s.IosPerSecond());
  SetClaim(c, *k.ios, b, s.ios);
  if (s.latency_ns.count() == 0) return;  // no latency was measured: say nothing
  const LatencyHistogram& h = s.latency_ns;
  SetClaim(c, *k.latency_min, b, static_cast<double>(h.min()) * 1e-9);
  SetClaim(c, *k.latency_mean, b, h.Mean() * 1e-9);
  SetClaim(c, *k.latency_p50, b, h.Percentile(0.50) * 1e-9);
  SetClaim(c, *k.latency_p90, b, h.Percentile(0.90) * 1e-9);
  SetClaim(c, *k.latency_p99, b, h.Percentile(0.99) * 1e-9);
  SetClaim(c, *k.latency_p999, b, h.Percentile(0.999) * 1e-9);
  SetClaim(c, *k.latency_max, b, static_cast<double>(h.max()) * 1e-9);
  // Every bucket, in fio's json+ layout (core/fio_latency_bins.h): any percentile can be recomputed.
  SetClaim(c, *k.latency_histogram, b, FioBinsJson(FioBinsOf(h)));
}

LatencyModes AddLargeWorkingSetClaims(const DiskWorkload& w, const IoJobStats& s, nlohmann::json* claims) {
  nlohmann::json& c = *claims;
  const ClaimBindings b = {{"queue_depth", std::to_string(w.queue_depth)}};
  const LatencyModes modes = FindLatencyModes(s.latency_ns);
  SetClaim(c, kDiskLargeWorkingSetBytes, b, w.span_bytes);
  SetClaim(c, kDiskLargeLatencyBimodal, b, modes.bimodal);
  SetClaim(c, kDiskLargeFastModeFraction, b, modes.FastFraction());
  if (modes.bimodal) {
    SetClaim(c, kDiskLargeFastModeP50, b, modes.fast_median_ns * 1e-9);
    SetClaim(c, kDiskLargeSlowModeP50, b, modes.slow_median_ns * 1e-9);
    SetClaim(c, kDiskLargeModeSplit, b, modes.split_ns * 1e-9);
  }
  return modes;
}

MeterResult DiskIoMeter::Measure(MeterContext& ctx) {
  const Options& o = ctx.options;
  const bool use_device = o.String("target") == "block_device";
  const bool direct = o.Bool("direct");
  auto cancelled = [&ctx] { return ctx.cancelled(); };

  // Validate the plan against the configured size before touching the disk.
  DiskTargetShape shape;
  shape.size_bytes = ScratchFileBytesFor(o);
  shape.regular_span_bytes = static_cast<uint64_t>(o.Int("file_size_bytes"));
  shape.read_only = use_device;
  if (!use_device) {
    auto pre = PlanDiskWorkloads(o, shape);
    if (!pre.ok()) return MeterResult::Failed(pre.status().message());
    const double need = pre->PlannedSeconds() + FillSecondsEstimate(shape.size_bytes);
    const double left = ctx.deadline_monotonic_seconds - ctx.env->MonotonicSeconds();
    if (ctx.deadline_monotonic_seconds > 0 && need > left) {
      return MeterResult::Failed("disk.io plans about " + Seconds(need) + " s but its timeout leaves " +
                                 Seconds(left) + " s (lower duration_seconds or raise timeout_seconds)");
    }
  }

  std::unique_ptr<DiskTarget> target;
  if (use_device) {
    const std::string dev = o.String("block_device");
    if (dev.empty())
      return MeterResult::Failed("meters.disk.io.target is block_device but block_device is empty");
    ctx.Progress("opening " + dev + " read-only");
    auto t = DiskTarget::OpenBlockDevice(dev, direct);
    if (!t.ok()) return MeterResult::Failed(t.status().message());
    target = std::move(t).value();
  } else {
    ScratchFileSpec spec;
    spec.directory = o.String("directory");
    spec.size_bytes = shape.size_bytes;
    spec.free_space_margin_bytes = static_cast<uint64_t>(o.Int("free_space_margin_bytes"));
    spec.direct = direct;
    spec.seed = static_cast<uint64_t>(ctx.env->WallSeconds() * 1e6) ^ static_cast<uint64_t>(::getpid());
    spec.cancelled = cancelled;
    ctx.Progress("creating a " + std::to_string(spec.size_bytes >> 20) + " MiB scratch file in " +
                 spec.directory);
    auto t = DiskTarget::CreateScratchFile(spec);
    if (!t.ok()) return MeterResult::Failed(t.status().message());
    target = std::move(t).value();
  }

  shape.size_bytes = target->size_bytes();
  if (use_device) shape.regular_span_bytes = 0;  // every workload spans the whole device
  shape.alignment_bytes = target->alignment_bytes();
  auto plan = PlanDiskWorkloads(o, shape);
  if (!plan.ok()) return MeterResult::Failed(plan.status().message());

  std::string fallback_reason;
  auto engine = MakeIoEngine(o.String("engine"), &fallback_reason);
  if (!engine.ok()) return MeterResult::Failed(engine.status().message());

  MeterResult result = MeterResult::Ok();
  nlohmann::json workloads = nlohmann::json::object();
  uint64_t seed = 0x5eed;
  for (const DiskWorkload& w : plan->workloads) {
    ctx.Progress(w.name + " (" + std::to_string(w.block_size_bytes) + " B, qd " +
                 std::to_string(w.queue_depth) + ", " + Seconds(w.warmup_seconds + w.duration_seconds) +
                 " s)");
    IoJob job;
    job.fd = target->fd();
    job.path = target->path();
    job.target_size = w.span_bytes;
    job.workload = w;
    job.seed = ++seed;
    job.env = ctx.env;
    job.cancelled = cancelled;
    auto stats = RunDiskWorkload(**engine, job);
    if (!stats.ok()) return MeterResult::Failed(w.name + ": " + stats.status().message());
    AddDiskWorkloadClaims(w, *stats, &result.claims);
    nlohmann::json wcond = w.ConditionsJson();
    if (!stats->engine_setup.empty()) wcond["engine_setup"] = stats->engine_setup;
    if (w.large_working_set) {
      const LatencyModes modes = AddLargeWorkingSetClaims(w, *stats, &result.claims);
      wcond["latency_modes"] = modes.explanation;
      if (modes.bimodal) {
        char line[640];
        std::snprintf(
            line, sizeof line,
            "%s: read latency is bimodal: %.1f %% of reads took about %.1f us, %.1f %% about %.1f us; "
            "the fast ones did not wait for the device (a cache in front of it, or a throttle letting "
            "bursts through), so the percentiles are not the device's; over this %llu-byte working set "
            "the device sustained %.0f reads/s",
            w.name.c_str(), modes.FastFraction() * 100, modes.fast_median_ns / 1e3,
            (1 - modes.FastFraction()) * 100, modes.slow_median_ns / 1e3,
            static_cast<unsigned long long>(w.span_bytes), stats->IosPerSecond());
        result.findings.push_back({"disk_latency_bimodal", line, {{"workload", w.name}}});
      }
    }
    if (stats->ios == 0) {
      result.findings.push_back(
          {"disk_no_io_completed",
           w.name + ": no I/O completed within the " + Seconds(w.duration_seconds) + " s window",
           {{"workload", w.name}}});
    }
    workloads[w.name] = wcond;
  }
  target->Remove();

  nlohmann::json& cond = result.conditions;
  cond["target"] = target->ConditionsJson();
  cond["engine"] = (*engine)->name();
  if (!fallback_reason.empty()) cond["engine_fallback_reason"] = fallback_reason;
  cond["direct"] = direct;
  cond["file_size_bytes"] = target->size_bytes();
  cond["warmup_seconds"] = o.Double("warmup_seconds");
  cond["duration_seconds"] = o.Double("duration_seconds");
  cond["deep_queue_depth"] = o.Int("deep_queue_depth");
  if (plan->workloads.end() != std::find_if(plan->workloads.begin(), plan->workloads.end(),
                                            [](const DiskWorkload& w) { return w.large_working_set; })) {
    cond["latency_modes_method"] =
        "quarter-octave log-latency bins, Otsu split; bimodal when each side holds >= 5 % of the I/Os, the "
        "medians differ >= 3x and the valley between the peaks is <= half the lower peak";
  }
  cond["fsync_engine"] = "psync";
  cond["latency_histogram_relative_error_ratio"] = LatencyHistogram::kRelativeErrorBound;
  cond["workloads"] = workloads;
  if (!plan->skipped.empty()) cond["skipped_workloads"] = plan->skipped;
  return result;
}

}  // namespace resmeter
