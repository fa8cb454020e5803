// net.latency: round-trip time of small messages to one or more resmeter
// peers on an otherwise idle TCP connection (TCP_NODELAY): min, p50, p99,
// max and mean over a configured count; the peer co-signs the session.
//
// Thread behaviour: see Meter; sessions run one target at a time.
#pragma once

#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"

namespace resmeter {

class NetLatencyMeter final : public Meter {
 public:
  MeterResult Measure(MeterContext& ctx) override;
  // The meter's option table (meters.net.latency.*), for the registry.
  static std::vector<OptionSpec> OptionSpecs();
};

}  // namespace resmeter
