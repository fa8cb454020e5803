#include "meters/net/net_targets.h"

#include "claims/net_claim_specs.h"
#include "peer/net_socket.h"

namespace resmeter {

void AddExchangeClaims(const SignedExchange& ex, TargetReport* report) {
  SetClaim(report->claims, kNetPeerThumbprint, ex.peer_thumbprint);
  SetClaim(report->claims, kNetPeerJwk, ex.peer_jwk);
  SetClaim(report->claims, kNetPeerSignature, ex.peer_jws);
  if (!ex.agent_jws.empty()) SetClaim(report->claims, kNetAgentSignature, ex.agent_jws);
  report->conditions["local_address"] = ex.local_address;
  report->conditions["remote_address"] = ex.remote_address;
  report->conditions["peer_thumbprint"] = ex.peer_thumbprint;
}

MeterResult RunNetTargets(MeterContext& ctx, const std::string& option_path, nlohmann::json conditions,
                          const std::function<Result<TargetReport>(const NetTargetOptions&)>& session) {
  const std::vector<std::string> targets = ctx.options.Strings("targets");
  if (targets.empty()) return MeterResult::Unavailable("no peer configured (" + option_path + ")");
  nlohmann::json claim_entries = nlohmann::json::array();
  nlohmann::json condition_entries = nlohmann::json::array();
  std::vector<Finding> findings;
  std::string failures;
  size_t ok = 0;
  for (const auto& target : targets) {
    NetTargetOptions o;
    o.target = target;
    o.io_timeout_seconds = ctx.options.Double("io_timeout_seconds");
    if (ctx.deadline_monotonic_seconds > 0 && ctx.env != nullptr) {
      o.deadline = MonotonicNow() + (ctx.deadline_monotonic_seconds - ctx.env->MonotonicSeconds());
    }
    o.cancel = ctx.cancel_flag.get();
    o.signer = ctx.signer;
    o.progress = [&ctx](const std::string& line) { ctx.Progress(line); };
    Result<TargetReport> r =
        ctx.cancelled() ? Result<TargetReport>(Status::Cancelled("cancelled")) : session(o);
    if (r.ok()) {
      ++ok;
      SetClaim(r->claims, kNetTarget, target);
      SetClaim(r->claims, kNetTargetStatus, "ok");
      r->conditions["target"] = target;
      claim_entries.push_back(std::move(r->claims));
      condition_entries.push_back(std::move(r->conditions));
      continue;
    }
    const std::string why = r.status().message();
    nlohmann::json failed = nlohmann::json::object();
    SetClaim(failed, kNetTarget, target);
    SetClaim(failed, kNetTargetStatus, "failed");
    SetClaim(failed, kNetTargetReason, why);
    claim_entries.push_back(std::move(failed));
    condition_entries.push_back({{"target", target}});
    findings.push_back({"peer_failed", target + ": " + why, {{"target", target}}});
    failures += (failures.empty() ? "" : "; ") + target + ": " + why;
  }
  if (ctx.signer == nullptr) {
    findings.push_back({"no_agent_signature", "no agent key: only the peers signed the summaries", {}});
  }
  conditions["targets"] = std::move(condition_entries);
  MeterResult result = ok > 0 ? MeterResult::Ok() : MeterResult::Failed(failures);
  SetClaim(result.claims, kNetTargets, std::move(claim_entries));
  SetClaim(result.claims, kNetTargetsOk, ok);
  SetClaim(result.claims, kNetTargetsFailed, targets.size() - ok);
  result.conditions = std::move(conditions);
  result.findings = std::move(findings);
  return result;
}

OptionSpec NetTargetsOptionSpec() {
  return {"targets",
          OptionType::kStringList,
          nlohmann::json::array(),
          {},
          {},
          {},
          "peers to measure against, as \"host:port\" of a running `resmeter peer`"};
}

OptionSpec NetIoTimeoutOptionSpec() {
  return {"io_timeout_seconds",
          OptionType::kDouble,
          5.0,
          0.1,
          60,
          {},
          "bound of every connect, read and write; a silent peer fails after this"};
}

}  // namespace resmeter
