// Printing a ledger audit for people (text), machines (JSON) and
// spreadsheets (CSV, one row per UTC hour). Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "reporter/ledger_audit.h"

namespace resmeter {

// The audit as one JSON object (findings, restarts, untrusted periods, bill, hours).
nlohmann::json LedgerAuditToJson(const LedgerAuditResult& r, const std::vector<std::string>& files);
// The human report: summary, restarts, untrusted periods, findings, bill, verdict.
void PrintLedgerAudit(std::ostream& out, const LedgerAuditResult& r, const std::vector<std::string>& files,
                      const std::string& kid);
// CSV with a header: one row per UTC hour of the bill, then a "total" row.
void PrintLedgerBillCsv(std::ostream& out, const LedgerAuditResult& r);

}  // namespace resmeter
