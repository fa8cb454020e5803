// Appraisal of a signed report: every check a buyer needs, decided once,
// returned as a Verdict (core/verdict.h) that the CLI, the JSON output
// and the EAR output only render.
//
// Checks, in order: the key source; structure, algorithm, key (kid equals
// the thumbprint of the signing key), signature, profile, expiry and nonce
// (report/report_verifier.h); cnf.jwk equals the signing key; ueid is the
// one derived from that key; key_origin is one the policy accepts; the
// embedded evidence verifies and binds the key (with the policy's pins);
// the identity document (when given) verifies and names the same key; the
// report is live (meters read /proc and /sys, not fixture trees); time
// trust; the RFC 3161 tokens and the policy's time.require_tsa
// (report/report_timestamps.h); the net.* co-signatures; one check per
// policy clause.
//
// The key: a pinned one (--key JWK, or the identity document's jwk) must be
// the report's signer and equal its cnf.jwk. Without a pin the report's own
// cnf.jwk verifies it, and that key is trusted only through the evidence
// binding: evidence "none" is then REJECTED unless allow_dev_evidence.
//
// Input errors (a malformed token, key or identity document, an unreadable
// input) are CheckOutcome::kError: REJECTED with exit code 2. Details quote
// signed claims with control characters escaped (\xNN), so no reason can
// add a line after the verdict line. Pure functions; thread-safe.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/verdict.h"
#include "evidence/evidence_verifier.h"
#include "evidence/report_evidence.h"
#include "jose/jwk.h"
#include "policy/net_cosign.h"
#include "policy/policy.h"
#include "policy/policy_evaluator.h"
#include "tsa/tsa_anchors.h"

namespace resmeter {

struct AppraisalInputs {
  // --key: the pinned public JWK as text (nullopt: not given); key_name names it in messages.
  std::optional<std::string> key_jwk;
  std::string key_name = "--key";
  // --identity: the identity document as text (nullopt: not given).
  std::optional<std::string> identity_json;
  std::string identity_name = "--identity";
  // An input that could not be read (e.g. "--key: cannot open x"): an input error.
  std::vector<std::string> input_errors;
  std::optional<std::string> expected_nonce_hex;  // normalized hex: require eat_nonce == this
  const Policy* policy = nullptr;                 // null: no policy clauses
  double now_unix_seconds = 0;
  std::vector<std::string> allowed_algorithms = {kAlgEdDSA, kAlgES384};
  double max_clock_skew_seconds = 60;
  EvidenceVerifyOptions evidence;    // trust anchors and check time; the policy's pins are added
  bool allow_dev_evidence = false;   // accept evidence "none" (development mode) as a warning
  bool allow_fixture_roots = false;  // accept a report whose meters read fixture trees
  // Anchors for the report's RFC 3161 tokens (<trust_anchors_dir>/tsa/*.pem;
  // report/report_timestamps.h); empty: tokens are shown but not checked.
  TsaAnchors tsa_anchors;
};

// The verdict with the details the renderers show next to it.
struct ReportAppraisal {
  Verdict verdict;
  nlohmann::json header;                 // the JWS protected header, when decodable
  nlohmann::json claims;                 // the signed claims; null unless the signature verified
  std::shared_ptr<const PublicKey> key;  // the key that verified the signature
  std::optional<EvidenceAppraisal> evidence;
  std::optional<PolicyVerdict> policy;
  std::vector<NetCosignCheck> cosign;
};

// Appraises `token` (JWS compact) with everything in `inputs`.
ReportAppraisal AppraiseReportDetailed(const std::string& token, const AppraisalInputs& inputs);
// The verdict alone.
Verdict AppraiseReport(const std::string& token, const AppraisalInputs& inputs);

// The meter name a check belongs to ("policy.cpu.vcpus" -> "cpu", "cosign.net.latency[h:p]"
// -> "net.latency"), looked up among `submods`' names; "" when it is about the whole report.
std::string CheckSubmod(const std::string& check_name, const nlohmann::json& submods);

}  // namespace resmeter
