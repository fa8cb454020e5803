#include "cli/ledger_output.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace resmeter {
namespace {

// "2027-01-15T08:00:00Z" (fractions of a second dropped).
std::string Utc(double unix_seconds) {
  time_t t = static_cast<time_t>(std::floor(unix_seconds));
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string SeqRange(uint64_t a, uint64_t b) {
  return a == b ? "seq " + std::to_string(a) : "seq " + std::to_string(a) + ".." + std::to_string(b);
}

nlohmann::json TotalsJson(const LedgerBillTotals& t) {
  nlohmann::json j = {{"statements", t.statements},
                      {"covered_hours", t.covered_hours},
                      {"delivered_vcpu_hours", t.delivered_vcpu_hours},
                      {"stolen_vcpu_hours", t.stolen_vcpu_hours},
                      {"memory_gib_hours", t.memory_gib_hours},
                      {"gpu_hours", t.gpu_hours},
                      {"untrusted_time_hours", t.untrusted_time_hours},
                      {"restart_gap_hours", t.restart_gap_hours},
                      {"policy_violation_hours", nullptr}};
  if (t.policy_violation_hours) j["policy_violation_hours"] = *t.policy_violation_hours;
  // Measured availability (ledger/ledger_bill.h).
  j["steal_based_delivered_vcpu_hours"] = t.steal_based_delivered_vcpu_hours;
  j["measured_loss_vcpu_hours"] = t.measured_loss_vcpu_hours;
  j["measured_hours"] = t.measured_hours;
  j["unmeasured_statements"] = t.unmeasured_statements;
  j["unmeasured_hours"] = t.unmeasured_hours;
  j["availability_samples"] = t.availability_samples;
  j["availability_sampler_cpu_ratio_max"] = t.sampler_cpu_ratio_max;
  return j;
}

void CsvRow(std::ostream& out, const std::string& label, const LedgerBillTotals& t) {
  out << label << ',' << t.statements << ',' << Fixed(t.covered_hours, 6) << ','
      << Fixed(t.delivered_vcpu_hours, 6) << ',' << Fixed(t.stolen_vcpu_hours, 6) << ','
      << Fixed(t.memory_gib_hours, 6) << ',' << Fixed(t.gpu_hours, 6) << ','
      << Fixed(t.untrusted_time_hours, 6) << ',' << Fixed(t.restart_gap_hours, 6) << ','
      << (t.policy_violation_hours ? Fixed(*t.policy_violation_hours, 6) : "") << '\n';
}

}  // namespace

nlohmann::json LedgerAuditToJson(const LedgerAuditResult& r, const std::vector<std::string>& files,
                                 const LedgerPolicyAssessor* policy) {
  nlohmann::json findings = nlohmann::json::array();
  for (const auto& f : r.findings) {
    nlohmann::json j = {{"kind", f.kind},
                        {"severity", f.severity == LedgerFindingSeverity::kError ? "error" : "warning"},
                        {"seq", f.seq},
                        {"seq_end", f.seq_end},
                        {"message", f.message}};
    if (!f.file.empty()) j["file"] = f.file, j["line"] = f.line;
    findings.push_back(std::move(j));
  }
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : r.epochs) {
    epochs.push_back({{"seq", e.seq},
                      {"kid", e.kid},
                      {"key_origin", e.key_origin},
                      {"prev_epoch_kid", e.prev_epoch_kid},
                      {"evidence_type", e.evidence_type},
                      {"evidence_ok", e.evidence_ok},
                      {"evidence_detail", e.evidence_detail},
                      {"gap_start", Utc(e.gap_start_unix_seconds)},
                      {"gap_start_unix_seconds", e.gap_start_unix_seconds},
                      {"gap_end_unix_seconds", e.gap_end_unix_seconds},
                      {"gap_seconds", e.gap_end_unix_seconds - e.gap_start_unix_seconds},
                      {"cut_bytes", e.cut_bytes},
                      {"cut_sha256", e.cut_sha256},
                      {"cut_file", e.cut_file},
                      {"clean", e.clean},
                      {"reason", e.reason}});
  }
  nlohmann::json untrusted = nlohmann::json::array();
  for (const auto& u : r.untrusted_periods) {
    untrusted.push_back({{"first_seq", u.first_seq},
                         {"last_seq", u.last_seq},
                         {"start_unix_seconds", u.start_unix_seconds},
                         {"end_unix_seconds", u.end_unix_seconds},
                         {"reason", u.reason}});
  }
  nlohmann::json hours = nlohmann::json::array();
  for (const auto& h : r.bill.hours) {
    nlohmann::json j = TotalsJson(h.totals);
    j["hour"] = Utc(static_cast<double>(h.hour_start_unix_seconds));
    hours.push_back(std::move(j));
  }
  nlohmann::json bill = TotalsJson(r.bill.totals);
  bill["from_unix_seconds"] =
      r.bill.from_unix_seconds ? nlohmann::json(*r.bill.from_unix_seconds) : nlohmann::json();
  bill["to_unix_seconds"] =
      r.bill.to_unix_seconds ? nlohmann::json(*r.bill.to_unix_seconds) : nlohmann::json();
  bill["unauthenticated_statements"] = r.bill.unauthenticated_statements;
  bill["unauthenticated_vcpu_hours"] = r.bill.unauthenticated_vcpu_hours;
  if (r.bill.from_unix_seconds && r.bill.to_unix_seconds) {
    const double asked = (*r.bill.to_unix_seconds - *r.bill.from_unix_seconds) / 3600;
    bill["asked_hours"] = asked;
    bill["coverage_gap_hours"] = std::max(0.0, asked - r.bill.totals.covered_hours);
  }
  nlohmann::json disagreements = nlohmann::json::array();  // measured availability vs reported steal
  for (const auto& d : r.bill.availability_disagreements) {
    disagreements.push_back({{"first_seq", d.first_seq}, {"last_seq", d.last_seq},
                             {"start_unix_seconds", d.start_unix_seconds}, {"end_unix_seconds", d.end_unix_seconds},
                             {"capacity_vcpu_seconds", d.capacity_vcpu_seconds},
                             {"measured_loss_vcpu_seconds", d.measured_loss_vcpu_seconds},
                             {"stolen_vcpu_seconds", d.stolen_vcpu_seconds}});
  }
  bill["availability_disagreements"] = disagreements;
  nlohmann::json out = {{"valid", r.clean()},
                        {"files", files},
                        {"lines", r.lines},
                        {"statements", r.statements},
                        {"first_seq", r.first_seq},
                        {"last_seq", r.last_seq},
                        {"signatures_verified", r.signatures_verified},
                        {"authenticated_statements", r.authenticated_statements},
                        {"errors", r.errors},
                        {"findings", findings},
                        {"findings_not_listed", r.findings_not_listed},
                        {"unbilled_statements", r.unbilled_statements},
                        {"audit_time_unix_seconds", r.audit_time_unix_seconds},
                        {"epochs", epochs},
                        {"untrusted_periods", untrusted},
                        {"bill", bill},
                        {"hours", hours}};
  if (policy != nullptr) {
    out["policy"] = policy->ToJson();
    out["policy"]["passed"] = policy->violations().empty();
    out["policy"]["violation_hours"] = r.bill.totals.policy_violation_hours.value_or(0);
  }
  return out;
}

// The policy section of the text report: violations per run of periods and
// the clauses the ledger cannot assess.
void PrintLedgerPolicy(std::ostream& out, const LedgerPolicyAssessor& p) {
  const auto& v = p.violations();
  out << "policy " << p.policy().source;
  if (!p.policy().name.empty()) out << " (" << p.policy().name << ")";
  out << ": "
      << (v.empty() ? "met in every period"
                    : std::to_string(v.size()) + (v.size() == 1 ? " violation" : " violations"))
      << "\n";
  for (const auto& x : v) {
    out << "  " << SeqRange(x.first_seq, x.last_seq) << "  " << Utc(x.start_unix_seconds) << " .. "
        << Utc(x.end_unix_seconds) << "\n";
    for (const auto& f : x.failures) {
      out << "    " << f.name << ": required " << f.required << ", measured " << f.Measured() << "\n";
    }
  }
  for (const auto& n : p.not_assessable()) out << "  not assessable from the ledger: " << n << "\n";
}

void PrintLedgerAudit(std::ostream& out, const LedgerAuditResult& r, const std::vector<std::string>& files,
                      const LedgerPolicyAssessor* policy) {
  out << "ledger: " << files.size() << (files.size() == 1 ? " file, " : " files, ") << r.lines << " lines, "
      << r.statements << " statements (" << SeqRange(r.first_seq, r.last_seq) << ")\n";
  out << "  signatures verified: " << r.signatures_verified << "; authentic: " << r.authenticated_statements
      << " statements\n";
  out << "epochs: " << r.epochs.size() << "\n";
  for (const auto& e : r.epochs) {
    out << "  seq " << e.seq << "  " << Utc(e.gap_end_unix_seconds) << "  kid " << e.kid << "  "
        << e.key_origin << "  evidence " << e.evidence_type << (e.evidence_ok ? " ok" : " REJECTED")
        << "  gap " << Fixed(e.gap_end_unix_seconds - e.gap_start_unix_seconds, 0) << " s  "
        << (e.clean ? "clean" : "unclean") << "\n";
    if (e.cut_bytes) {
      out << "      cut " << e.cut_bytes << " bytes from " << e.cut_file << " (sha256 " << e.cut_sha256
          << "), not billed\n";
    }
  }
  out << "untrusted time: " << r.untrusted_periods.size()
      << (r.untrusted_periods.size() == 1 ? " period\n" : " periods\n");
  for (const auto& u : r.untrusted_periods) {
    out << "  " << SeqRange(u.first_seq, u.last_seq) << "  " << Utc(u.start_unix_seconds) << " .. "
        << Utc(u.end_unix_seconds) << "  " << u.reason << "\n";
  }
  const size_t warnings = r.findings.size() + r.findings_not_listed - r.errors;
  out << "findings: " << r.errors << (r.errors == 1 ? " error, " : " errors, ") << warnings
      << (warnings == 1 ? " warning\n" : " warnings\n");
  for (const auto& f : r.findings) {
    char kind[32];
    std::snprintf(kind, sizeof kind, "%-21s", f.kind.c_str());
    out << "  " << (f.severity == LedgerFindingSeverity::kError ? "ERROR   " : "WARNING ") << kind
        << f.message << "\n";
  }
  if (r.findings_not_listed) out << "  ... and " << r.findings_not_listed << " more not listed\n";
  if (policy != nullptr) PrintLedgerPolicy(out, *policy);
  const LedgerBillTotals& t = r.bill.totals;
  out << "bill";
  if (r.bill.from_unix_seconds || r.bill.to_unix_seconds) {
    out << " (" << (r.bill.from_unix_seconds ? Utc(*r.bill.from_unix_seconds) : "start") << " .. "
        << (r.bill.to_unix_seconds ? Utc(*r.bill.to_unix_seconds) : "end") << ")";
  }
  out << ": authenticated usage statements only\n";
  auto row = [&](const char* name, const std::string& value) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "  %-26s %14s\n", name, value.c_str());
    out << buf;
  };
  row("usage statements", std::to_string(t.statements));
  row("metered hours", Fixed(t.covered_hours, 3));
  row("delivered vCPU-hours", Fixed(t.delivered_vcpu_hours, 3));
  row("stolen vCPU-hours", Fixed(t.stolen_vcpu_hours, 3));
  // Measured availability: what steal alone would bill, and the coverage.
  row("  from steal vCPU-hours", Fixed(t.steal_based_delivered_vcpu_hours, 3));
  row("  measured loss vCPU-hours", Fixed(t.measured_loss_vcpu_hours, 3));
  row("  measured hours", Fixed(t.measured_hours, 3));
  row("  availability samples", std::to_string(t.availability_samples));
  row("  unmeasured statements", std::to_string(t.unmeasured_statements));
  row("  sampler cost (cores)", t.availability_samples ? Fixed(t.sampler_cpu_ratio_max, 4) : "not run");
  row("memory GiB-hours", Fixed(t.memory_gib_hours, 3));
  row("GPU-hours", Fixed(t.gpu_hours, 3));
  row("untrusted-time hours", Fixed(t.untrusted_time_hours, 3));
  row("restart gap hours", Fixed(t.restart_gap_hours, 3));
  if (r.bill.from_unix_seconds && r.bill.to_unix_seconds) {
    const double asked = (*r.bill.to_unix_seconds - *r.bill.from_unix_seconds) / 3600;
    row("hours asked for", Fixed(asked, 3));
    row("coverage gap hours", Fixed(std::max(0.0, asked - t.covered_hours), 3));
  }
  row("policy not met hours",
      t.policy_violation_hours ? Fixed(*t.policy_violation_hours, 3) : "not evaluated");
  for (const auto& d : r.bill.availability_disagreements) {  // measured availability vs reported steal
    out << "  FINDING availability_vs_steal " << SeqRange(d.first_seq, d.last_seq) << ": measured loss "
        << Fixed(d.measured_loss_vcpu_seconds, 1) << " vCPU-s exceeds reported steal " << Fixed(d.stolen_vcpu_seconds, 1)
        << " vCPU-s + 10% of " << Fixed(d.capacity_vcpu_seconds, 1) << " vCPU-s (the host took CPU without reporting it)\n";
  }
  if (r.bill.unauthenticated_statements) {
    out << "  not billed: " << r.bill.unauthenticated_statements << " unauthenticated usage statements ("
        << Fixed(r.bill.unauthenticated_vcpu_hours, 3) << " delivered vCPU-hours)\n";
  }
  if (r.unbilled_statements) {
    out << "  not billed: " << r.unbilled_statements << " usage statements with period findings\n";
  }
}

void PrintLedgerBillCsv(std::ostream& out, const LedgerAuditResult& r) {
  out << "hour,statements,metered_hours,delivered_vcpu_hours,stolen_vcpu_hours,memory_gib_hours,gpu_hours,"
         "untrusted_time_hours,restart_gap_hours,policy_violation_hours\n";
  for (const auto& h : r.bill.hours)
    CsvRow(out, Utc(static_cast<double>(h.hour_start_unix_seconds)), h.totals);
  CsvRow(out, "total", r.bill.totals);
}

}  // namespace resmeter
