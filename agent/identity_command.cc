// `resmeter identity [-o FILE]`: print the running agent's identity document
// (public JWK, kid, key_origin "ephemeral", evidence bound to SHA-512(kid)),
// as the agent published it in <state_dir>/identity.json at its start. Agent
// keys live only in the running agent's memory, so there is nothing to print
// when no agent has started; a fresh nonce-bound identity comes from the
// running agent's POST /v1/attest.
#include <iostream>

#include "agent/commands.h"
#include "core/safe_dir.h"
#include "core/untrusted_json.h"
#include "jose/key_store.h"

namespace resmeter {
namespace {

struct IdentityArgs {
  std::string nonce, output;
};

int RunIdentity(const CliGlobals& globals, const IdentityArgs& args) {
  if (!args.nonce.empty()) {
    return Fail(kExitUsage,
                "identity: --nonce needs the running agent's key: ask it with POST /v1/attest "
                "{\"nonce\": \"HEX\"} (agent keys are ephemeral and live only in the agent's memory)");
  }
  auto config = globals.LoadConfig();
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  const std::string state_dir = config->global.String("state_dir");
  const std::string path = IdentityDocumentPath(state_dir);
  // Read as the agent wrote it: from the checked state directory, no symlink followed.
  Result<std::string> text = Status::NotFound(path);
  if (auto dir = SafeDir::OpenForReading(state_dir); dir.ok()) {
    text = dir->ReadFileAt(kIdentityDocumentFile, 1 << 20);
  } else {
    text = dir.status();
  }
  if (!text.ok() && text.status().code() != Status::Code::kNotFound)
    return Fail(kExitUsage, text.status().message());
  if (!text.ok()) {
    return Fail(kExitUsage,
                "no agent identity in " + path +
                    ": agent keys live only in the running agent's memory; start `resmeter agent`");
  }
  nlohmann::json doc = ParseUntrustedJsonOrDiscarded(*text);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("jwk") || !doc.contains("kid") ||
      !doc.contains("evidence") || !doc["evidence"].is_object() || !doc["kid"].is_string()) {
    return Fail(kExitUsage, path + ": not an identity document (needs jwk, kid and evidence)");
  }
  const std::string out = doc.dump(2) + "\n";
  if (args.output.empty()) {
    std::cout << out;
  } else if (Status s = WriteFileAtomically(args.output, out, 0644); !s.ok()) {
    return Fail(kExitUsage, s.message());
  }
  const nlohmann::json& ev = doc["evidence"];
  std::cerr << "identity  kid " << doc["kid"].get<std::string>() << ", key_origin "
            << doc.value("key_origin", std::string("?")) << ", evidence "
            << ev.value("type", std::string("?"));
  if (ev.value("type", std::string()) == "none")
    std::cerr << " (" << ev.value("reason", std::string()) << ")";
  std::cerr << "\n";
  return kExitOk;
}

}  // namespace

void RegisterIdentityCommand(CLI::App& app, CliGlobals& globals, int* exit_code) {
  auto args = std::make_shared<IdentityArgs>();
  auto* cmd = app.add_subcommand("identity",
                                 "print the running agent's identity document (public JWK + hardware "
                                 "evidence) from the state directory");
  cmd->add_option("--nonce", args->nonce,
                  "not available: a nonce-bound identity comes from the agent's POST /v1/attest");
  cmd->add_option("-o,--output", args->output, "write the document here instead of standard output");
  cmd->callback([&globals, exit_code, args]() { *exit_code = RunIdentity(globals, *args); });
}

}  // namespace resmeter
