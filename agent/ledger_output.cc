#include "agent/ledger_output.h"

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
  return j;
}

void CsvRow(std::ostream& out, const std::string& label, const LedgerBillTotals& t) {
  out << label << ',' << t.statements << ',' << Fixed(t.covered_hours, 6) << ',' << Fixed(t.delivered_vcpu_hours, 6)
      << ',' << Fixed(t.stolen_vcpu_hours, 6) << ',' << Fixed(t.memory_gib_hours, 6) << ',' << Fixed(t.gpu_hours, 6)
      << ',' << Fixed(t.untrusted_time_hours, 6) << ',' << Fixed(t.restart_gap_hours, 6) << ','
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
  nlohmann::json restarts = nlohmann::json::array();
  for (const auto& m : r.restarts) {
    restarts.push_back({{"seq", m.seq}, {"gap_start", Utc(m.gap_start_unix_seconds)},
                        {"gap_start_unix_seconds", m.gap_start_unix_seconds},
                        {"gap_end_unix_seconds", m.gap_end_unix_seconds},
                        {"gap_seconds", m.gap_end_unix_seconds - m.gap_start_unix_seconds},
                        {"torn_bytes", m.torn_bytes}, {"clean", m.clean}, {"reason", m.reason}});
  }
  nlohmann::json untrusted = nlohmann::json::array();
  for (const auto& u : r.untrusted_periods) {
    untrusted.push_back({{"first_seq", u.first_seq}, {"last_seq", u.last_seq},
                         {"start_unix_seconds", u.start_unix_seconds}, {"end_unix_seconds", u.end_unix_seconds},
                         {"reason", u.reason}});
  }
  nlohmann::json hours = nlohmann::json::array();
  for (const auto& h : r.bill.hours) {
    nlohmann::json j = TotalsJson(h.totals);
    j["hour"] = Utc(static_cast<double>(h.hour_start_unix_seconds));
    hours.push_back(std::move(j));
  }
  nlohmann::json bill = TotalsJson(r.bill.totals);
  bill["from_unix_seconds"] = r.bill.from_unix_seconds ? nlohmann::json(*r.bill.from_unix_seconds) : nlohmann::json();
  bill["to_unix_seconds"] = r.bill.to_unix_seconds ? nlohmann::json(*r.bill.to_unix_seconds) : nlohmann::json();
  bill["unauthenticated_statements"] = r.bill.unauthenticated_statements;
  bill["unauthenticated_vcpu_hours"] = r.bill.unauthenticated_vcpu_hours;
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
          {"restarts", restarts},
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
  out << ": " << (v.empty() ? "met in every period" : std::to_string(v.size()) + (v.size() == 1 ? " violation" : " violations"))
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
                      const std::string& kid, const LedgerPolicyAssessor* policy) {
  out << "ledger: " << files.size() << (files.size() == 1 ? " file, " : " files, ") << r.lines << " lines, "
      << r.statements << " statements (" << SeqRange(r.first_seq, r.last_seq) << ")\n";
  out << "  key: " << kid << "; signatures verified: " << r.signatures_verified << "\n";
  out << "  authenticated: " << r.authenticated_statements << " of " << r.statements << " statements\n";
  out << "restarts: " << r.restarts.size() << "\n";
  for (const auto& m : r.restarts) {
    out << "  seq " << m.seq << "  " << Utc(m.gap_end_unix_seconds) << "  gap "
        << Fixed(m.gap_end_unix_seconds - m.gap_start_unix_seconds, 0) << " s  " << m.reason;
    if (m.torn_bytes) out << " (cut " << m.torn_bytes << " torn bytes)";
    out << "\n";
  }
  out << "untrusted time: " << r.untrusted_periods.size() << (r.untrusted_periods.size() == 1 ? " period\n" : " periods\n");
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
    out << "  " << (f.severity == LedgerFindingSeverity::kError ? "ERROR   " : "WARNING ") << kind << f.message << "\n";
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
  row("memory GiB-hours", Fixed(t.memory_gib_hours, 3));
  row("GPU-hours", Fixed(t.gpu_hours, 3));
  row("untrusted-time hours", Fixed(t.untrusted_time_hours, 3));
  row("restart gap hours", Fixed(t.restart_gap_hours, 3));
  row("policy not met hours", t.policy_violation_hours ? Fixed(*t.policy_violation_hours, 3) : "not evaluated");
  if (r.bill.unauthenticated_statements) {
    out << "  not billed: " << r.bill.unauthenticated_statements << " unauthenticated usage statements ("
        << Fixed(r.bill.unauthenticated_vcpu_hours, 3) << " delivered vCPU-hours)\n";
  }
  if (r.clean()) {
    out << "CLEAN: every statement verified\n";
  } else {
    out << "INTEGRITY PROBLEMS: " << r.errors << (r.errors == 1 ? " error\n" : " errors\n");
  }
}

void PrintLedgerBillCsv(std::ostream& out, const LedgerAuditResult& r) {
  out << "hour,statements,metered_hours,delivered_vcpu_hours,stolen_vcpu_hours,memory_gib_hours,gpu_hours,"
         "untrusted_time_hours,restart_gap_hours,policy_violation_hours\n";
  for (const auto& h : r.bill.hours) CsvRow(out, Utc(static_cast<double>(h.hour_start_unix_seconds)), h.totals);
  CsvRow(out, "total", r.bill.totals);
}

}  // namespace resmeter
