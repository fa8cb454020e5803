// AgentPuller: one agent as a collector follows it. Pull() fetches the
// statements after the last one stored (GET /v1/ledger?from=), re-reading the
// last stored one as an anchor; audits the new ones with the ledger audit's
// own code (LedgerAuditor, fed in chunks, chain state kept); stores them
// with the audit's verdict; and turns what it saw into events:
//   unreachable / slow / bad_response / tls   the agent did not answer properly
//                                       (raised once, "recovered" when it does;
//                                       tls: an https:// agent's certificate did
//                                       not verify or name it, or the handshake failed)
//   fork        a different statement at a stored seq (both kept)
//   rollback    the agent no longer serves the stored head (restored snapshot)
//   finding.<kind>  an audit finding (bad_signature, broken_link, ...)
//   verdict     a challenged report's verdict changed
// Challenge() posts a fresh nonce to /v1/attest and appraises the report with
// the verifier's code (AppraiseReportDetailed), plus one collector check:
// the report's key must be an epoch key of the audited ledger.
//
// Load() rebuilds the audit state from the store (a restart, or taking the
// agent over from another collector). Pull and Challenge of one puller must
// not run at once (the collector's scheduler guarantees it); Snapshot() may
// be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "collector/collector_settings.h"
#include "collector/collector_store.h"
#include "ledger/ledger_audit.h"
#include "ledger/ledger_policy.h"

namespace resmeter {

// What /metrics and the API show about one agent.
struct AgentSnapshot {
  CollectorAgent agent;
  bool loaded = false;
  bool up = false;  // the last exchange succeeded
  double last_contact_unix_seconds = 0;
  uint64_t last_seq = 0;    // highest stored seq
  uint64_t statements = 0;  // stored by this collector's audit (authentic or not)
  uint64_t authentic_statements = 0;
  uint64_t audit_errors = 0;          // error findings
  double delivered_vcpu_seconds = 0;  // billed by the audit so far
  uint64_t policy_violation_periods = 0;
  std::optional<bool> report_accepted;  // last challenge's verdict
  double last_verified_report_unix_seconds = 0;
  std::string condition;  // the raised condition ("" when healthy)
  uint64_t forks = 0, rollbacks = 0;
};

class AgentPuller {
 public:
  AgentPuller(CollectorAgent agent, std::shared_ptr<const CollectorSettings> settings, CollectorStore* store);

  // Rebuilds the audit from the stored statements.
  Status Load();
  // One pull cycle (see above). Errors only from the store.
  Status Pull();
  // One challenge. Errors only from the store.
  Status Challenge();

  AgentSnapshot Snapshot() const;
  const CollectorAgent& agent() const { return agent_; }

 private:
  // Handles the lines of one /v1/ledger answer: *got_new when new statements
  // were stored, *bad when the answer was not a ledger page (raised).
  Status Ingest(const std::string& body, uint64_t from, bool* got_new, bool* bad);
  Status StoreNewFindings();
  Status Event(const std::string& kind, const std::string& severity, uint64_t seq, const std::string& detail);
  // A condition (unreachable, slow, bad_response): one event when it starts
  // or changes; `down`: the exchange failed (an answer that was only slow is not).
  Status Raise(const std::string& kind, const std::string& detail, bool down = true);
  Status Recovered();
  LedgerAuditOptions AuditOptions();

  CollectorAgent agent_;
  std::shared_ptr<const CollectorSettings> settings_;
  CollectorStore* store_;
  std::unique_ptr<LedgerPolicyAssessor> assessor_;
  std::unique_ptr<LedgerAuditor> auditor_;
  uint64_t line_no_ = 0;        // lines fed to the auditor
  uint64_t next_seq_ = 1;       // first seq not stored
  size_t findings_stored_ = 0;  // auditor findings already in the store
  uint64_t errors_seen_ = 0;
  uint64_t resync_from_ = 0;  // nonzero: the next pull re-reads from here
  uint64_t rollback_at_ = 0;  // the head a reported rollback went below (0: none open)
  mutable std::mutex mu_;     // guards snap_
  AgentSnapshot snap_;
};

}  // namespace resmeter
