// `resmeter claims`: the declared claims of every meter and the policy
// claims, as the Markdown tables README.md embeds (or JSON with --json).
#include <iostream>

#include "agent/claim_tables.h"
#include "agent/commands.h"
#include "meters/registry/registry.h"

namespace resmeter {
namespace {

nlohmann::json ClaimsJson() {
  nlohmann::json out = nlohmann::json::array();
  for (const MeterInfo& m : MeterRegistry()) {
    for (const ClaimSpec* s : m.claims) {
      nlohmann::json j = {{"meter", m.name},
                          {"key", std::string(s->key)},
                          {"type", ClaimTypeName(s->type)},
                          {"unit", std::string(s->unit)},
                          {"meaning", std::string(s->meaning)},
                          {"readers", ClaimReaders(*s)}};
      if (!s->policy_name.empty()) j["policy"] = std::string(s->policy_name);
      if (!s->metric.empty()) j["metric"] = std::string(s->metric);
      if (!s->legacy_key.empty()) j["legacy_key"] = std::string(s->legacy_key);
      out.push_back(std::move(j));
    }
  }
  return out;
}

}  // namespace

void RegisterClaimsCommand(CLI::App& app, CliGlobals& /*globals*/, int* exit_code) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "claims", "list every meter's declared claims (key, type, unit, meaning, policy name, metric)");
  cmd->add_flag("--json", *json, "print them as JSON instead of the README's Markdown tables");
  cmd->callback([exit_code, json]() {
    if (*json) {
      std::cout << ClaimsJson().dump(2) << "\n";
    } else {
      std::cout << "## Meter claims\n\n"
                << RenderMeterClaimTable() << "\n## Policy claims\n\n"
                << RenderPolicyClaimTable();
    }
    *exit_code = kExitOk;
  });
}

}  // namespace resmeter
