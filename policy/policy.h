// Policy: what a buyer ordered, as clauses on a report's claims, parsed from
// a YAML policy file (see README "Policies" and configs/policies/).
//
//   name: small-vm
//   max_report_age_seconds: 3600
//   time: {require_trusted: true, max_error_bound_seconds: 0.1,
//          nts_servers: [time.cloudflare.com, 192.0.2.1],       # reports: the selected NTS source
//          nts_certificate_subjects: [time.cloudflare.com],     # reports: its NTS-KE certificate
//          require_tsa: [freetsa], max_unstamped_seconds: 7200,  # ledgers: RFC 3161 time axis
//          bracket_tolerance_seconds: 5,
//          max_stamp_delay_seconds: 120}                        # reports: iat vs the token's time
//   evidence:
//     accept: [sev-snp, tdx]
//     key_origins: [ephemeral]
//     sev-snp: {measurement: [HEX], host_data: HEX, min_reported_tcb: {...}, max_vmpl: 0}
//     tdx: {mr_td: [HEX], rtmr0: HEX, min_tee_tcb_svn: HEX}
//   peers:
//     storage: {kid: RFC7638_THUMBPRINT}
//   findings: {forbid: [memory_total_mismatch], max: 0}
//   meters:
//     disk.io: {max_age_seconds: 3600}
//   claims:
//     - cpu.vcpus: {min: 8}
//     - net.download_gbit_per_second: {min: 9, peer: storage}
//
// Claim names come from the one table in policy/policy_claims.h. Every
// error a user can make (unknown key or claim, wrong type, bad hex length, a
// clause without an operator, an operator the claim does not take, a peer
// named by host:port) is InvalidArgument with one line "FILE:LINE: message"
// naming the key. Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "evidence/evidence_sev_snp.h"
#include "evidence/evidence_tdx.h"
#include "evidence/tpm2_quote_verifier.h"

namespace resmeter {

// One clause: a claim and the bounds it must meet.
struct PolicyClause {
  std::string claim;                         // a name from PolicyClaimTable()
  std::optional<double> min, max, equals;    // numeric claims
  std::optional<std::string> equals_text;    // text claims: exact match
  std::optional<std::string> contains_text;  // text claims: substring (case-insensitive)
  std::string peer;                          // net.* qualifier: a name from Policy::peers ("" = every target)
  std::string peer_kid;            // net.* qualifier: that peer's key thumbprint (set by the parser)
  std::optional<int> queue_depth;  // disk.* qualifier (required there)
  int line = 0;                    // 1-based line in the policy file

  // "cpu.vcpus", "disk.rand_read_iops[qd=32]", "net.download_gbit_per_second[peer=storage]".
  std::string DisplayName() const;
};

// Accepted hardware evidence and what it must pin.
struct PolicyEvidence {
  std::vector<std::string> accept;  // evidence types ("sev-snp", "tdx", "tpm2", "none")
  // Accepted launch measurements (lowercase hex) per type; key "*": any type.
  // Filled by `measurements:` and by `sev-snp.measurement` / `tdx.mr_td`.
  // Empty: measurements are not checked.
  std::map<std::string, std::vector<std::string>> measurements;
  // Accepted agent key origins (jose/key_origin.h); empty: the default {"ephemeral"}.
  std::vector<std::string> key_origins;
  // Per-type pins for the verifiers (evidence/evidence_*.h). Their
  // allowed_measurements / allowed_mr_td stay empty here: those come from
  // `measurements` (see EvidenceOptionsFromPolicy).
  SevSnpPolicy snp;
  TdxPolicy tdx;
  Tpm2Policy tpm;
  std::string tpm_pcr_bank = "sha256";  // the bank the pinned PCR values are from
  int line = 0;
};

// A network peer the buyer chose, named once and used by net.* clauses.
struct PolicyPeer {
  std::string name;
  std::string kid;  // RFC 7638 thumbprint of its key (`resmeter key show` on the peer)
  int line = 0;
};

// Limits on the findings (claims that disagree with the platform) of every submod.
struct PolicyFindings {
  std::vector<std::string> forbid;  // finding codes that must not appear
  std::optional<int> max;           // at most this many findings in all
  int forbid_line = 0, max_line = 0;
};

// How old one meter's measurement may be (now - its submod's measured_at).
struct PolicyMeterAge {
  std::string meter;  // e.g. "disk.io"
  double max_age_seconds = 0;
  int line = 0;
};

struct Policy {
  std::string source;  // the file it came from (for messages)
  std::string name;
  std::string description;
  std::vector<PolicyClause> clauses;
  bool require_trusted_time = false;
  std::optional<double> max_time_error_bound_seconds;
  // The NTS servers (names or addresses) the report's time claim may be synchronised to; empty: any.
  std::vector<std::string> nts_servers;
  // The NTS-KE certificates the selected NTS source may present (subject CN,
  // whole RFC 2253 subject, or "sha256:<hex>" of the certificate); empty: any.
  std::vector<std::string> nts_certificate_subjects;
  // Ledger time axis (tsa/time_axis.h) and report tokens
  // (report/report_timestamps.h): the TSAs whose tokens count (signer
  // certificate CN or subject; empty: any anchored TSA; for reports a token
  // from one of them is then required), the longest billed stretch without a
  // verified bracket (ledgers), and the bracket tolerance.
  std::vector<std::string> require_tsa;
  std::optional<double> max_unstamped_seconds;
  std::optional<double> bracket_tolerance_seconds;
  // Reports: how long before a token's time the report's iat may lie (the
  // agent sets iat, then asks the TSA); nullopt: 120 s.
  std::optional<double> max_stamp_delay_seconds;
  int time_line = 0;
  std::optional<PolicyEvidence> evidence;
  std::optional<double> max_report_age_seconds;
  int max_report_age_line = 0;
  std::vector<PolicyPeer> peers;  // the accepted net peers (by key thumbprint)
  std::optional<PolicyFindings> findings;
  std::vector<PolicyMeterAge> meter_ages;

  // The peer with this name, or nullptr.
  const PolicyPeer* FindPeer(const std::string& name) const;
  // Whether some declared peer has this key thumbprint.
  bool AcceptsPeerKid(const std::string& kid) const;
};

// Parses a policy from YAML text; `source` names it in error messages.
Result<Policy> ParsePolicy(const std::string& yaml_text, const std::string& source);
// Reads and parses a policy file. NotFound when it cannot be read.
Result<Policy> LoadPolicyFile(const std::string& path);

}  // namespace resmeter
