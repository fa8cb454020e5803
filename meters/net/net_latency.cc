#include "meters/net/net_latency.h"

#include "meters/net/net_targets.h"

namespace resmeter {

std::vector<OptionSpec> NetLatencyMeter::OptionSpecs() {
  return {
      {"targets", OptionType::kStringList, nlohmann::json::array(), {}, {}, {},
       "peers to measure against, as \"host:port\" of a running `resmeter peer`"},
      {"count", OptionType::kInt, 100, 1, 100000, {}, "round trips measured"},
      {"message_bytes", OptionType::kInt, 64, 16, 65536, {}, "size of each message (echoed back)"},
      {"interval_seconds", OptionType::kDouble, 0.01, 0, 1, {}, "pause between round trips (idle connection)"},
      {"io_timeout_seconds", OptionType::kDouble, 5.0, 0.1, 60, {},
       "bound of every connect, read and write; a silent peer fails after this"},
  };
}

MeterResult NetLatencyMeter::Measure(MeterContext& ctx) {
  LatencyParams p;
  p.count = ctx.options.Int("count");
  p.message_bytes = ctx.options.Int("message_bytes");
  p.interval_seconds = ctx.options.Double("interval_seconds");

  nlohmann::json conditions = p.ToJson();
  conditions["method"] = "TCP_NODELAY echo of one message at a time; RTT timed by the agent; nearest-rank percentiles";
  conditions["io_timeout_seconds"] = ctx.options.Double("io_timeout_seconds");

  return RunNetTargets(ctx, "meters.net.latency.targets", std::move(conditions),
                       [&p](const NetTargetOptions& o) -> Result<TargetReport> {
    RESMETER_ASSIGN_OR_RETURN(LatencyOutcome out, RunLatencySession(o, p));
    TargetReport rep;
    rep.claims["rtt_count"] = out.stats.count;
    rep.claims["rtt_min_seconds"] = out.stats.min;
    rep.claims["rtt_p50_seconds"] = out.stats.p50;
    rep.claims["rtt_p99_seconds"] = out.stats.p99;
    rep.claims["rtt_max_seconds"] = out.stats.max;
    rep.claims["rtt_mean_seconds"] = out.stats.mean;
    AddExchangeClaims(out.exchange, &rep);
    return rep;
  });
}

}  // namespace resmeter
