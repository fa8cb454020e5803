// `resmeter key init|show`: the persistent key of the buyer-run network peer
// (`resmeter peer`), pinned by thumbprint by the buyers it serves. Agents
// (`resmeter agent`, `probe`, `identity`) never use it: their keys are
// ephemeral, generated in memory at each start.
#include <iostream>

#include "cli/commands.h"
#include "jose/key_store.h"

namespace resmeter {

void RegisterKeyCommand(CLI::App& app, CliGlobals& globals, int* exit_code) {
  auto* key = app.add_subcommand(
      "key", "manage the network peer's persistent key (`resmeter peer` only; agent keys are ephemeral and in memory)");
  key->require_subcommand(1);

  auto* init = key->add_subcommand("init", "create the peer's key in the state directory (mode 0600; key_origin \"file\", for `resmeter peer` only)");
  auto algorithm = std::make_shared<std::string>();
  init->add_option("--algorithm", *algorithm, "EdDSA (default, from report.algorithm) or ES384")
      ->check(CLI::IsMember({"EdDSA", "ES384"}));
  init->callback([&globals, exit_code, algorithm]() {
    auto config = globals.LoadConfig();
    if (!config.ok()) { *exit_code = Fail(kExitUsage, config.status().message()); return; }
    const std::string state_dir = config->global.String("state_dir");
    const std::string alg = algorithm->empty() ? config->global.String("report.algorithm") : *algorithm;
    auto created = InitSigningKey(state_dir, alg);
    if (!created.ok()) { *exit_code = Fail(kExitUsage, created.status().message()); return; }
    std::cerr << "resmeter: created " << alg << " key " << (*created)->Thumbprint() << " in "
              << SigningKeyPath(state_dir) << "\n";
    std::cout << (*created)->PublicJwk().dump() << "\n";
    *exit_code = kExitOk;
  });

  auto* show = key->add_subcommand("show", "print the peer's public key as a JWK (with kid and alg), for buyers to pin");
  show->callback([&globals, exit_code]() {
    auto config = globals.LoadConfig();
    if (!config.ok()) { *exit_code = Fail(kExitUsage, config.status().message()); return; }
    auto loaded = LoadSigningKey(config->global.String("state_dir"));
    if (!loaded.ok()) { *exit_code = Fail(kExitUsage, loaded.status().message()); return; }
    nlohmann::json jwk = (*loaded)->PublicJwk();
    jwk["kid"] = (*loaded)->Thumbprint();
    jwk["alg"] = (*loaded)->algorithm();
    jwk["use"] = "sig";
    std::cout << jwk.dump() << "\n";
    *exit_code = kExitOk;
  });
}

}  // namespace resmeter
