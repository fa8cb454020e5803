#include "core/untrusted_json.h"
#include "policy/net_cosign.h"

#include <algorithm>
#include <string>

#include "jose/jws.h"

namespace resmeter {
namespace {

// Parses `token` and checks its signature with `key`.
Result<ParsedJws> CheckSigned(const std::string& token, const PublicKey& key, const std::string& who) {
  auto parsed = ParseJws(token);
  if (!parsed.ok()) return parsed.status().WithContext(who + " signature");
  if (parsed->header["alg"] != key.algorithm()) {
    return Status::VerifyFailed(who + " signature uses " + parsed->header["alg"].get<std::string>() +
                                " but the key is " + key.algorithm());
  }
  Status st = key.Verify(parsed->signing_input, parsed->signature);
  if (!st.ok()) return st.WithContext(who + " signature");
  return parsed;
}

// The string member `key` of `entry`, or Corruption.
Result<std::string> Member(const nlohmann::json& entry, const char* key) {
  if (!entry.contains(key) || !entry[key].is_string())
    return Status::Corruption(std::string("target entry lacks ") + key);
  return entry[key].get<std::string>();
}

}  // namespace

Result<nlohmann::json> VerifyNetCosignature(const nlohmann::json& entry, const PublicKey& agent_key) {
  if (!entry.is_object()) return Status::Corruption("target entry is not an object");
  if (!entry.contains("peer_jwk")) return Status::Corruption("target entry lacks peer_jwk");
  RESMETER_ASSIGN_OR_RETURN(std::string peer_thumbprint, Member(entry, "peer_thumbprint"));
  RESMETER_ASSIGN_OR_RETURN(std::string peer_jws, Member(entry, "peer_signature_jws"));
  RESMETER_ASSIGN_OR_RETURN(std::string agent_jws, Member(entry, "agent_signature_jws"));
  RESMETER_ASSIGN_OR_RETURN(auto peer_key, PublicKey::FromJwk(entry["peer_jwk"]));
  if (peer_key->thumbprint() != peer_thumbprint) {
    return Status::VerifyFailed("peer_jwk thumbprint " + peer_key->thumbprint() + " != peer_thumbprint " +
                                peer_thumbprint);
  }
  RESMETER_ASSIGN_OR_RETURN(ParsedJws peer, CheckSigned(peer_jws, *peer_key, "peer"));
  RESMETER_ASSIGN_OR_RETURN(ParsedJws agent, CheckSigned(agent_jws, agent_key, "agent"));
  if (peer.payload != agent.payload) return Status::VerifyFailed("peer and agent signed different summaries");
  nlohmann::json summary = ParseUntrustedJsonOrDiscarded(peer.payload);
  if (summary.is_discarded() || !summary.is_object())
    return Status::Corruption("signed summary is not a JSON object");
  if (summary.dump() != peer.payload) return Status::VerifyFailed("signed summary is not in canonical form");
  auto field = [&](const char* obj, const char* key) -> std::string {
    if (!summary.contains(obj) || !summary[obj].is_object() || !summary[obj].contains(key) ||
        !summary[obj][key].is_string()) {
      return {};
    }
    return summary[obj][key].get<std::string>();
  };
  if (field("peer", "thumbprint") != peer_thumbprint)
    return Status::VerifyFailed("summary names another peer key");
  if (field("client", "thumbprint") != agent_key.thumbprint())
    return Status::VerifyFailed("summary names another agent key");
  // The entry's numbers must be the signed ones.
  for (const char* phase : {"upload", "download"}) {
    const std::string bytes_key = std::string(phase) + "_bytes";
    if (!entry.contains(bytes_key)) continue;
    if (!summary.contains(phase) ||
        summary[phase].value("total_bytes", nlohmann::json()) != entry[bytes_key] ||
        summary[phase].value("window_seconds", nlohmann::json()) !=
            entry[std::string(phase) + "_window_seconds"]) {
      return Status::VerifyFailed(std::string(phase) + " numbers differ from the signed summary");
    }
  }
  if (entry.contains("rtt_p50_seconds")) {
    for (const char* k :
         {"rtt_min_seconds", "rtt_p50_seconds", "rtt_p99_seconds", "rtt_max_seconds", "rtt_mean_seconds"}) {
      if (!summary.contains("latency") ||
          summary["latency"].value(k, nlohmann::json()) != entry.value(k, nlohmann::json())) {
        return Status::VerifyFailed(std::string("latency ") + k + " differs from the signed summary");
      }
    }
  }
  return summary;
}

std::vector<NetCosignCheck> VerifyReportNetCosignatures(const nlohmann::json& claims,
                                                        const PublicKey& agent_key) {
  std::vector<NetCosignCheck> out;
  if (!claims.is_object() || !claims.contains("submods") || !claims["submods"].is_object()) return out;
  for (const char* meter : {"net.throughput", "net.latency"}) {
    const nlohmann::json& submods = claims["submods"];
    if (!submods.contains(meter) || !submods[meter].is_object()) continue;
    const nlohmann::json& sub = submods[meter];
    if (!sub.contains("claims") || !sub["claims"].is_object()) continue;
    const nlohmann::json& c = sub["claims"];
    if (!c.contains("targets") || !c["targets"].is_array()) continue;
    for (const nlohmann::json& entry : c["targets"]) {
      if (!entry.is_object() || !entry.contains("status") || entry["status"] != "ok") continue;
      NetCosignCheck check;
      check.meter = meter;
      check.target =
          entry.contains("target") && entry["target"].is_string() ? entry["target"].get<std::string>() : "?";
      Result<nlohmann::json> summary = VerifyNetCosignature(entry, agent_key);
      check.passed = summary.ok();
      check.detail =
          summary.ok() ? "peer " + entry["peer_thumbprint"].get<std::string>() + " and agent signatures hold"
                       : summary.status().message();
      out.push_back(std::move(check));
    }
  }
  return out;
}

Status CheckAcceptedNetPeers(const nlohmann::json& submods, const std::string& meter,
                             const std::string& peer_kid, const std::vector<std::string>& accepted_kids,
                             const PublicKey& agent_key) {
  if (!submods.is_object() || !submods.contains(meter) || !submods[meter].is_object()) return Status::Ok();
  const nlohmann::json& sub = submods[meter];
  if (!sub.contains("claims") || !sub["claims"].is_object()) return Status::Ok();
  const nlohmann::json& c = sub["claims"];
  if (!c.contains("targets") || !c["targets"].is_array()) return Status::Ok();
  for (const nlohmann::json& entry : c["targets"]) {
    if (!entry.is_object() || !entry.contains("status") || entry["status"] != "ok") continue;
    const std::string target =
        entry.contains("target") && entry["target"].is_string() ? entry["target"].get<std::string>() : "?";
    const std::string kid = entry.contains("peer_thumbprint") && entry["peer_thumbprint"].is_string()
                                ? entry["peer_thumbprint"].get<std::string>()
                                : "";
    if (!peer_kid.empty() && kid != peer_kid) continue;
    if (kid.empty()) return Status::VerifyFailed("target " + target + " has no peer_thumbprint");
    if (std::find(accepted_kids.begin(), accepted_kids.end(), kid) == accepted_kids.end()) {
      return Status::VerifyFailed("target " + target + " was co-signed by key " + kid +
                                  ", which is not a peer the policy lists");
    }
    Result<nlohmann::json> summary = VerifyNetCosignature(entry, agent_key);
    if (!summary.ok()) {
      return Status::VerifyFailed("target " + target +
                                  " co-signature does not hold: " + summary.status().message());
    }
  }
  return Status::Ok();
}

}  // namespace resmeter
