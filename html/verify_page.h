// `resmeter verify REPORT --html FILE`: the appraisal of one report as a
// self-contained page for buyers. It renders the object `verify --format
// json` prints (verdict, reasons, checks, header, evidence, time, policy,
// net_cosignatures, claims), so the page shows exactly what the verdict
// was decided on: the verdict banner with its reasons, the policy's clause
// table, the checks, evidence and time panels, and one card per meter with
// its claims, findings, conditions and plots (html/meter_plots.h).
// Every string from the report is escaped. Pure function; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace resmeter::html {

struct VerifyPageOptions {
  std::string report_name;  // the report file as given on the command line
  std::string policy_name;  // the policy file, "" when none
  double generated_unix_seconds = 0;
};

std::string RenderVerifyPage(const nlohmann::json& verify, const VerifyPageOptions& options);

}  // namespace resmeter::html
