// Shared plumbing of the net.* meters: runs one session per configured
// target ("host:port" strings), turns each into a claims entry (ok, or
// failed with the reason), and folds them into one MeterResult.
//
// A failed target never stops the others; the meter is ok when at least one
// target succeeded (each failure is also a finding), failed when all did,
// and unavailable when no target is configured.
// Thread behaviour: runs on the meter's thread; targets go one after another.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"
#include "meters/api/meter.h"
#include "peer/net_client.h"

namespace resmeter {

// What one target produced: its claims entry and its conditions entry.
struct TargetReport {
  nlohmann::json claims = nlohmann::json::object();
  nlohmann::json conditions = nlohmann::json::object();
};

// Runs `session` for every entry of ctx.options "targets". `conditions` are
// the meter-wide conditions; `option_path` names the targets key in messages.
MeterResult RunNetTargets(MeterContext& ctx, const std::string& option_path, nlohmann::json conditions,
                          const std::function<Result<TargetReport>(const NetTargetOptions&)>& session);

// The options every net.* meter takes: its peers ("targets") and the bound
// of every connect, read and write ("io_timeout_seconds").
OptionSpec NetTargetsOptionSpec();
OptionSpec NetIoTimeoutOptionSpec();

// The claims every signed target carries: peer key, both signatures.
void AddExchangeClaims(const SignedExchange& ex, TargetReport* report);

}  // namespace resmeter
