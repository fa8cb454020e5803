#include "meters/net/net_throughput.h"

#include "claims/net_claim_specs.h"
#include "meters/net/net_targets.h"

namespace resmeter {

std::vector<OptionSpec> NetThroughputMeter::OptionSpecs() {
  return {
      NetTargetsOptionSpec(),
      {"streams", OptionType::kInt, 4, 1, 64, {}, "parallel TCP streams per direction"},
      {"duration_seconds", OptionType::kDouble, 5.0, 0.1, 60, {}, "measured window per direction"},
      {"omit_seconds", OptionType::kDouble, 1.0, 0, 30, {}, "warm-up before the window, not counted"},
      {"buffer_bytes", OptionType::kInt, 131072, 1024, 4194304, {}, "bytes per write (and read buffer)"},
      {"socket_buffer_bytes",
       OptionType::kInt,
       0,
       0,
       4194304,
       {},
       "SO_SNDBUF/SO_RCVBUF of data sockets; 0 keeps the kernel's autotuning"},
      {"directions",
       OptionType::kString,
       "both",
       {},
       {},
       {"both", "upload", "download"},
       "upload (agent sends), download (peer sends) or both"},
      NetIoTimeoutOptionSpec(),
  };
}

MeterResult NetThroughputMeter::Measure(MeterContext& ctx) {
  ThroughputParams p;
  p.streams = ctx.options.Int("streams");
  p.duration_seconds = ctx.options.Double("duration_seconds");
  p.omit_seconds = ctx.options.Double("omit_seconds");
  p.buffer_bytes = ctx.options.Int("buffer_bytes");
  p.socket_buffer_bytes = ctx.options.Int("socket_buffer_bytes");
  const std::string dir = ctx.options.String("directions");
  p.phases = dir == "both" ? std::vector<std::string>{"upload", "download"} : std::vector<std::string>{dir};

  nlohmann::json conditions = p.ToJson();
  conditions["method"] =
      "TCP bulk transfer; the receiving side counts payload bytes between omit_seconds and "
      "omit_seconds + duration_seconds on its own monotonic clock; the agent rejects upload counts "
      "above what it sent or over a window shorter than duration_seconds";
  conditions["payload"] = "xoshiro256** bytes seeded per session and stream (1 MiB pool, rotating offsets)";
  conditions["io_timeout_seconds"] = ctx.options.Double("io_timeout_seconds");

  return RunNetTargets(ctx, "meters.net.throughput.targets", std::move(conditions),
                       [&p](const NetTargetOptions& o) -> Result<TargetReport> {
                         RESMETER_ASSIGN_OR_RETURN(ThroughputOutcome out, RunThroughputSession(o, p));
                         TargetReport rep;
                         for (const auto& [phase, c] : out.phases) {
                           nlohmann::json per_stream = nlohmann::json::array();
                           for (uint64_t b : c.stream_bytes)
                             per_stream.push_back(static_cast<double>(b) * 8.0 / c.window_seconds);
                           SetClaim(rep.claims, phase == "upload" ? kNetUploadBps : kNetDownloadBps, c.bps());
                           const ClaimBindings direction = {{"direction", phase}};
                           SetClaim(rep.claims, kNetDirectionBytes, direction, c.total());
                           SetClaim(rep.claims, kNetDirectionWindow, direction, c.window_seconds);
                           SetClaim(rep.claims, kNetDirectionStreamBps, direction, per_stream);
                         }
                         // Our own count of what the upload sockets accepted: the peer's upload figure never
                         // exceeds it.
                         if (out.phases.count("upload") != 0)
                           SetClaim(rep.claims, kNetUploadSentBytes, out.upload_sent_bytes);
                         rep.conditions["sndbuf_bytes"] = out.sndbuf_bytes;
                         rep.conditions["rcvbuf_bytes"] = out.rcvbuf_bytes;
                         AddExchangeClaims(out.exchange, &rep);
                         return rep;
                       });
}

}  // namespace resmeter
