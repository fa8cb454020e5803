// `resmeter identity [--nonce HEX] [-o FILE]`: print the identity document,
// the agent's public JWK with hardware evidence whose user data is
// SHA-512(kid || nonce), from the backend the config detects or requires.
#include <iostream>

#include "agent/commands.h"
#include "core/env.h"
#include "core/strings.h"
#include "reporter/evidence_claim.h"
#include "reporter/key_store.h"
#include "reporter/report.h"

namespace resmeter {
namespace {

struct IdentityArgs {
  std::string nonce, output;
};

int RunIdentity(const CliGlobals& globals, const IdentityArgs& args) {
  auto config = globals.LoadConfig();
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  std::string nonce_hex;
  if (!args.nonce.empty()) {
    auto n = NormalizeNonceHex(args.nonce);
    if (!n.ok()) return Fail(kExitUsage, n.status().message());
    nonce_hex = *n;
  }
  auto key = LoadSigningKey(config->global.String("state_dir"));
  if (!key.ok()) return Fail(kExitUsage, key.status().message());
  auto evidence =
      CollectEvidenceClaim(config->global, (*key)->Thumbprint(), HexDecode(nonce_hex).value_or(std::string()));
  if (!evidence.ok()) return Fail(kExitUsage, "evidence: " + evidence.status().message());
  nlohmann::json doc = {{"jwk", (*key)->PublicJwk()},
                        {"kid", (*key)->Thumbprint()},
                        {"alg", (*key)->algorithm()},
                        {"iat", static_cast<int64_t>(DefaultEnv()->WallSeconds())},
                        {"evidence", *evidence}};
  if (!nonce_hex.empty()) doc["nonce"] = nonce_hex;
  std::string text = doc.dump(2) + "\n";
  if (args.output.empty()) {
    std::cout << text;
  } else if (Status s = WriteFileAtomically(args.output, text, 0644); !s.ok()) {
    return Fail(kExitUsage, s.message());
  }
  std::cerr << "identity  kid " << (*key)->Thumbprint() << ", evidence " << (*evidence)["type"].get<std::string>();
  if ((*evidence)["type"] == "none") std::cerr << " (" << evidence->value("reason", std::string()) << ")";
  std::cerr << "\n";
  return kExitOk;
}

}  // namespace

void RegisterIdentityCommand(CLI::App& app, CliGlobals& globals, int* exit_code) {
  auto args = std::make_shared<IdentityArgs>();
  auto* cmd = app.add_subcommand("identity", "print the identity document: public JWK + hardware evidence");
  cmd->add_option("--nonce", args->nonce, "challenge to bind into the evidence (16-128 hex digits)");
  cmd->add_option("-o,--output", args->output, "write the document here instead of standard output");
  cmd->callback([&globals, exit_code, args]() { *exit_code = RunIdentity(globals, *args); });
}

}  // namespace resmeter
