#include "meters/net/net_latency.h"

#include "claims/net_claim_specs.h"
#include "meters/net/net_targets.h"

namespace resmeter {

std::vector<OptionSpec> NetLatencyMeter::OptionSpecs() {
  return {
      NetTargetsOptionSpec(),
      {"count", OptionType::kInt, 100, 1, 100000, {}, "round trips measured"},
      {"message_bytes", OptionType::kInt, 64, 16, 65536, {}, "size of each message (echoed back)"},
      {"interval_seconds",
       OptionType::kDouble,
       0.01,
       0,
       1,
       {},
       "pause between round trips (idle connection)"},
      NetIoTimeoutOptionSpec(),
  };
}

MeterResult NetLatencyMeter::Measure(MeterContext& ctx) {
  LatencyParams p;
  p.count = ctx.options.Int("count");
  p.message_bytes = ctx.options.Int("message_bytes");
  p.interval_seconds = ctx.options.Double("interval_seconds");

  nlohmann::json conditions = p.ToJson();
  conditions["method"] =
      "TCP_NODELAY echo of one message at a time; RTT timed by the agent; nearest-rank percentiles";
  conditions["io_timeout_seconds"] = ctx.options.Double("io_timeout_seconds");

  return RunNetTargets(ctx, "meters.net.latency.targets", std::move(conditions),
                       [&p](const NetTargetOptions& o) -> Result<TargetReport> {
                         RESMETER_ASSIGN_OR_RETURN(LatencyOutcome out, RunLatencySession(o, p));
                         TargetReport rep;
                         SetClaim(rep.claims, kNetRttCount, out.stats.count);
                         SetClaim(rep.claims, kNetRttMin, out.stats.min);
                         SetClaim(rep.claims, kNetRttP50, out.stats.p50);
                         SetClaim(rep.claims, kNetRttP99, out.stats.p99);
                         SetClaim(rep.claims, kNetRttMax, out.stats.max);
                         SetClaim(rep.claims, kNetRttMean, out.stats.mean);
                         SetClaim(rep.claims, kNetRttHistogram, FioBinsJson(out.stats.bins));
                         AddExchangeClaims(out.exchange, &rep);
                         return rep;
                       });
}

}  // namespace resmeter
