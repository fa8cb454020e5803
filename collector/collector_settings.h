// CollectorSettings: what every part of a collector shares, read once from
// the `collector:` config section (config/config_schema.cc documents each key).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collector/http_fetch.h"
#include "evidence/evidence_verifier.h"
#include "policy/policy.h"
#include "tsa/tsa_anchors.h"

namespace resmeter {

struct CollectorSettings {
  std::string name;      // this collector (leases, events); default host:pid
  std::string database;  // "" (SQLite in state_dir), sqlite:PATH, postgresql://...
  std::string state_dir;
  std::vector<std::string> agent_urls;   // admitted at start from their /v1/identity
  double pull_interval_seconds = 30;     // each agent's ledger pull, +- jitter
  double attest_interval_seconds = 300;  // each agent's challenge, +- jitter (0: never)
  double jitter_ratio = 0.2;             // uniform in [1 - r, 1 + r] x interval
  double slow_seconds = 2;               // an answer slower than this is a "slow" event
  HttpFetchOptions fetch;                // per-request bounds against hostile agents
  size_t max_pages_per_pull = 20;        // ledger pages fetched back to back in one pull
  uint64_t resync_window = 1000;         // after a fork/rollback, re-read this many stored seqs
  int workers = 8;                       // pulls and challenges in flight
  double lease_ttl_seconds = 15;         // PostgreSQL sharing: a dead collector's agents move after this
  std::optional<Policy> policy;          // collector.policy: evidence pins, key origins, clauses
  EvidenceVerifyOptions evidence;        // with the policy's pins applied
  TsaAnchors tsa_anchors;                // <trust_anchors_dir>/tsa/*.pem: RFC 3161 tokens on reports
  std::vector<std::string> accepted_key_origins = {"ephemeral"};
  bool allow_dev_evidence = false;   // evidence "none" (development and tests only)
  bool allow_fixture_roots = false;  // reports measured on fixture trees (tests only)
};

}  // namespace resmeter
