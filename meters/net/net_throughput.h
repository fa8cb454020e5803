// net.throughput: TCP throughput to one or more resmeter peers, upload and
// download, N parallel streams, a fixed window after an omitted warm-up,
// bytes counted by the receiving side, result co-signed by the peer. The
// peer's upload counts are checked against what the agent sent and the
// configured window (a peer claiming more fails its target); download is
// counted by the agent alone.
//
// Claims (per target): upload_bps/download_bps, per-stream _bps, bytes and
// window seconds, upload_sent_bytes (agent-counted), the peer's JWK and both JWS signatures over the shared
// summary. Thread behaviour: see Meter; sessions run one target at a time.
#pragma once

#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"

namespace resmeter {

class NetThroughputMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;
  // The meter's option table (meters.net.throughput.*), for the registry.
  static std::vector<OptionSpec> OptionSpecs();
};

}  // namespace resmeter
