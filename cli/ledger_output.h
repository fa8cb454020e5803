// Printing a ledger audit for people (text), machines (JSON) and
// spreadsheets (CSV, one row per UTC hour). Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "ledger/ledger_audit.h"
#include "ledger/ledger_policy.h"

namespace resmeter {

// The audit as one JSON object (findings, epochs, untrusted periods, bill,
// hours, and "policy" when `policy` is given).
nlohmann::json LedgerAuditToJson(const LedgerAuditResult& r, const std::vector<std::string>& files,
                                 const LedgerPolicyAssessor* policy = nullptr);
// The human report: summary, epochs (key, evidence, gap, cut), untrusted
// periods, findings, policy violations (when `policy` is given), bill and
// coverage (the caller prints the verdict line).
void PrintLedgerAudit(std::ostream& out, const LedgerAuditResult& r, const std::vector<std::string>& files,
                      const LedgerPolicyAssessor* policy = nullptr);
// CSV with a header: one row per UTC hour of the bill, then a "total" row.
void PrintLedgerBillCsv(std::ostream& out, const LedgerAuditResult& r);

}  // namespace resmeter
