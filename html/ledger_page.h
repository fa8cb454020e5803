// `resmeter ledger audit ... --html FILE`: the bill as a page. It renders
// the object `ledger audit --json` prints (verdict, reasons, checks, bill,
// hours, epochs, findings, untrusted periods, policy): the verdict banner,
// the totals and the coverage of the period asked for, and the timeline per
// UTC hour (delivered and stolen vCPU-hours, GiB-hours, GPU-hours) with
// untrusted time, restart gaps and policy violations shaded and findings
// marked. Every string from the ledger is escaped. Pure; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace resmeter::html {

struct LedgerPageOptions {
  double generated_unix_seconds = 0;
};

std::string RenderLedgerPage(const nlohmann::json& audit, const LedgerPageOptions& options);

}  // namespace resmeter::html
