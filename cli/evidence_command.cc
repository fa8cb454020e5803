// `resmeter evidence verify`: verify raw hardware evidence (an SEV-SNP report,
// a TDX quote, TPM 2.0 evidence, or an identity document) against the shipped
// trust anchors and print its fields, then one line ACCEPTED or REJECTED:
// <reason> (or --json: the verdict object with the evidence beside it).
// Exit 0 accepted, 1 a check failed, 2 unreadable or malformed input.
#include <algorithm>
#include <iostream>

#include "core/untrusted_json.h"
#include "cli/commands.h"
#include "core/strings.h"
#include "evidence/evidence_verifier.h"
#include "policy/policy.h"
#include "policy/policy_evidence.h"
#include "report/report.h"
#include "core/verdict.h"

namespace resmeter {
namespace {

struct EvidenceArgs {
  std::string type, report, vcek, chain, quote, evidence, identity, report_data, nonce, at, anchors, policy;
  std::string ak_cert, ak_chain;  // tpm2: AK certificate (and intermediates) to attach to the evidence
  std::vector<std::string> measurements, mr_td;
  int max_vmpl = -1;
  bool allow_debug = false, allow_none = false, json = false;
};

// Prints "name: value" lines for a flat or nested JSON object.
void PrintFields(std::ostream& out, const nlohmann::json& j, const std::string& prefix) {
  for (const auto& [key, value] : j.items()) {
    if (value.is_object()) {
      PrintFields(out, value, prefix + key + ".");
    } else {
      out << "  " << prefix << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump()) << "\n";
    }
  }
}

// Joins names with ", ".
std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Reads a required input file; the error names the flag.
Result<std::string> ReadFlag(const std::string& flag, const std::string& path) {
  if (path.empty()) return Status::InvalidArgument(flag + " FILE is required for this --type");
  auto data = ReadInputFile(path);
  if (!data.ok()) return data.status().WithContext(flag);
  return data;
}

// With --ak-cert, attaches the AK certificate files to tpm2 `evidence`.
Status AttachAkCertFlags(const EvidenceArgs& a, nlohmann::json* evidence) {
  if (a.ak_cert.empty()) {
    if (!a.ak_chain.empty()) return Status::InvalidArgument("--ak-chain needs --ak-cert");
    return Status::Ok();
  }
  if (!evidence->is_object() || evidence->value("type", nlohmann::json()) != "tpm2") {
    return Status::InvalidArgument("--ak-cert applies to tpm2 evidence only");
  }
  RESMETER_ASSIGN_OR_RETURN(std::string cert, ReadFlag("--ak-cert", a.ak_cert));
  std::string chain;
  if (!a.ak_chain.empty()) {
    RESMETER_ASSIGN_OR_RETURN(chain, ReadFlag("--ak-chain", a.ak_chain));
  }
  Status s = AttachAkCertificate(evidence, cert, chain);
  return s.ok() ? s : Status::InvalidArgument("--ak-cert/--ak-chain: " + s.message());
}

// Runs the verification the arguments ask for.
Result<EvidenceVerdict> Verify(const EvidenceVerifyOptions& options, const EvidenceArgs& a,
                               const std::optional<std::string>& user_data) {
  if (!a.identity.empty()) {
    RESMETER_ASSIGN_OR_RETURN(std::string text, ReadFlag("--identity", a.identity));
    nlohmann::json doc = ParseUntrustedJsonOrDiscarded(text);
    if (doc.is_discarded()) return Status::InvalidArgument("--identity: " + a.identity + " is not JSON");
    if (doc.is_object() && doc.contains("evidence")) {
      RESMETER_RETURN_IF_ERROR(AttachAkCertFlags(a, &doc["evidence"]));
    }
    std::optional<std::string> nonce;
    if (!a.nonce.empty()) {
      RESMETER_ASSIGN_OR_RETURN(nonce, NormalizeNonceHex(a.nonce));
    }
    return VerifyIdentityDocument(doc, nonce, options);
  }
  if (!a.evidence.empty()) {
    RESMETER_ASSIGN_OR_RETURN(std::string text, ReadFlag("--evidence", a.evidence));
    nlohmann::json j = ParseUntrustedJsonOrDiscarded(text);
    if (j.is_discarded()) return Status::InvalidArgument("--evidence: " + a.evidence + " is not JSON");
    if (j.contains("evidence")) j = j["evidence"];  // an identity document
    if (!a.type.empty() && j.value("type", std::string()) != a.type) {
      return Status::InvalidArgument("--evidence holds '" + j.value("type", std::string()) + "' evidence, not " + a.type);
    }
    RESMETER_RETURN_IF_ERROR(AttachAkCertFlags(a, &j));
    return VerifyEvidenceJson(j, user_data, options);
  }
  if (a.type == "sev-snp") {
    SevSnpInput in;
    RESMETER_ASSIGN_OR_RETURN(in.report, ReadFlag("--report", a.report));
    RESMETER_ASSIGN_OR_RETURN(in.vcek, ReadFlag("--vcek", a.vcek));
    if (!a.chain.empty()) {
      RESMETER_ASSIGN_OR_RETURN(in.chain, ReadFlag("--chain", a.chain));
    }
    in.expected_report_data = user_data;
    in.at = options.at;
    RESMETER_ASSIGN_OR_RETURN(std::vector<std::string> anchors, LoadAmdTrustAnchors(options.trust_anchors_dir));
    return SevSnpVerifier(std::move(anchors), options.snp).Verify(in);
  }
  if (a.type == "tdx") {
    RESMETER_ASSIGN_OR_RETURN(std::string quote, ReadFlag("--quote", a.quote));
    nlohmann::json j = {{"type", "tdx"}, {"quote", Base64Encode(quote)}};
    return VerifyEvidenceJson(j, user_data, options);
  }
  if (a.type == "tpm2")
    return Status::InvalidArgument("--type tpm2 takes --evidence FILE or --identity FILE");
  return Status::InvalidArgument(
      "give --type sev-snp|tdx|tpm2 with its files, --evidence FILE or --identity FILE");
}

// The one verdict of an evidence verification: "evidence" passed (or a
// warning for accepted development-mode "none"), failed, or an input error;
// each item the verifier could not check is shown as not applicable.
Verdict EvidenceVerdictOf(const Result<EvidenceVerdict>& r) {
  Verdict v;
  if (!r.ok()) {
    const bool failed = r.status().code() == Status::Code::kVerifyFailed;
    v.Add("evidence", failed ? CheckOutcome::kFailed : CheckOutcome::kError, r.status().message());
    return v;
  }
  if (r->type == "none") {
    v.Add("evidence", CheckOutcome::kWarning, "none (development mode), accepted by --allow-none");
  } else {
    v.Add("evidence", CheckOutcome::kPassed, r->type + " verified (" + Join(r->checks) + ")");
  }
  for (const std::string& n : r->not_checked) v.Add("not_checked", CheckOutcome::kNotApplicable, n);
  return v;
}

// With --policy: the evidence type must be one the policy accepts, and an
// identity document's key origin one it accepts (the pins themselves are
// checked by the verifier through EvidenceOptionsFromPolicy).
void AddPolicyChecks(const Policy& policy, const EvidenceArgs& a, const Result<EvidenceVerdict>& r, Verdict* v) {
  if (r.ok() && policy.evidence && !policy.evidence->accept.empty()) {
    const auto& accept = policy.evidence->accept;
    const bool ok = std::find(accept.begin(), accept.end(), r->type) != accept.end();
    v->Add("policy.evidence.accept", ok ? CheckOutcome::kPassed : CheckOutcome::kFailed,
           r->type + (ok ? " is accepted" : " is not accepted (accepted: " + Join(accept) + ")"));
  }
  if (a.identity.empty()) return;
  auto text = ReadInputFile(a.identity);
  const nlohmann::json doc = text.ok() ? ParseUntrustedJsonOrDiscarded(*text) : nlohmann::json();
  const std::string origin =
      doc.is_object() && doc.contains("key_origin") && doc["key_origin"].is_string() ? doc["key_origin"].get<std::string>() : "";
  const std::vector<std::string> origins = AcceptedKeyOrigins(&policy);
  const bool ok = std::find(origins.begin(), origins.end(), origin) != origins.end();
  v->Add("key_origin", ok ? CheckOutcome::kPassed : CheckOutcome::kFailed,
         (origin.empty() ? std::string("no key_origin") : "'" + origin + "'") + (ok ? " is accepted" : " is not accepted (accepted: " + Join(origins) + ")"));
}

int RunEvidenceVerify(const CliGlobals& globals, const EvidenceArgs& a) {
  auto config = globals.LoadConfig();
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  EvidenceVerifyOptions options;
  options.trust_anchors_dir = a.anchors.empty() ? config->global.String("evidence.trust_anchors_dir") : a.anchors;
  if (!a.at.empty()) {
    auto at = ParseTimeArgument(a.at);
    if (!at.ok()) return Fail(kExitUsage, "--at: " + at.status().message());
    options.at = static_cast<time_t>(*at);
  }
  options.allow_none = a.allow_none;
  options.snp.allow_debug = options.tdx.allow_debug = a.allow_debug;
  options.snp.allowed_measurements = a.measurements;
  options.tdx.allowed_mr_td = a.mr_td;
  if (a.max_vmpl >= 0) options.snp.max_vmpl = static_cast<uint32_t>(a.max_vmpl);
  std::optional<Policy> policy;
  if (!a.policy.empty()) {
    auto p = LoadPolicyFile(a.policy);
    if (!p.ok()) return Fail(kExitUsage, p.status().message());
    policy = std::move(*p);
    options = EvidenceOptionsFromPolicy(&*policy, options);
  }
  std::optional<std::string> user_data;
  if (!a.report_data.empty()) {
    user_data = HexDecode(a.report_data);
    if (!user_data || user_data->size() != kUserDataSize) {
      return Fail(kExitUsage, "--report-data: want 128 hex digits (64 bytes)");
    }
  }
  const Result<EvidenceVerdict> result = Verify(options, a, user_data);
  Verdict verdict = EvidenceVerdictOf(result);
  if (policy) AddPolicyChecks(*policy, a, result, &verdict);
  if (a.json) {
    nlohmann::json out = verdict.ToJson();
    if (result.ok()) out["evidence"] = result->ToJson();
    std::cout << out.dump(2) << "\n";
    return verdict.ExitCode();
  }
  // Input that cannot be appraised at all is the project's one line on stderr, exit 2.
  if (verdict.input_error()) return Fail(kExitUsage, verdict.Reasons().front());
  if (result.ok()) {
    std::cout << result->type << " evidence verified\n";
    std::cout << "checks passed: " << Join(result->checks) << "\n";
    for (const std::string& n : result->not_checked) std::cout << "not checked: " << n << "\n";
    std::cout << "fields:\n";
    PrintFields(std::cout, result->fields, "");
  }
  std::cout << verdict.Line() << "\n";
  return verdict.ExitCode();
}

}  // namespace

void RegisterEvidenceCommand(CLI::App& app, CliGlobals& globals, int* exit_code) {
  auto* evidence = app.add_subcommand("evidence", "hardware evidence tools");
  evidence->require_subcommand(1);
  auto a = std::make_shared<EvidenceArgs>();
  auto* cmd = evidence->add_subcommand("verify", "verify SEV-SNP, TDX or TPM 2.0 evidence; print its fields");
  cmd->add_option("--type", a->type, "evidence type")->check(CLI::IsMember({"sev-snp", "tdx", "tpm2"}));
  cmd->add_option("--report", a->report, "SEV-SNP: the 1184-byte attestation report");
  cmd->add_option("--vcek", a->vcek, "SEV-SNP: the VCEK certificate (DER or PEM)");
  cmd->add_option("--chain", a->chain, "SEV-SNP: ASK + ARK PEM (default: the shipped chain for the VCEK's issuer)");
  cmd->add_option("--quote", a->quote, "TDX: the version-4 quote");
  cmd->add_option("--evidence", a->evidence, "evidence JSON (any type), or an identity document");
  cmd->add_option("--ak-cert", a->ak_cert,
                  "tpm2: the AK certificate (PEM or DER) to check instead of the evidence's");
  cmd->add_option("--ak-chain", a->ak_chain, "tpm2: intermediate CAs of --ak-cert (PEM bundle or DER)");
  cmd->add_option("--identity", a->identity, "identity document: also checks user data = SHA-512(kid || nonce)");
  cmd->add_option("--nonce", a->nonce, "with --identity: require this nonce (hex)");
  cmd->add_option("--report-data", a->report_data, "expected 64-byte user data (128 hex digits)");
  cmd->add_option("--at", a->at, "check certificates at this time (Unix seconds or YYYY-MM-DDTHH:MM:SSZ)");
  cmd->add_option("--anchors", a->anchors, "trust-anchor directory (default evidence.trust_anchors_dir)");
  cmd->add_option("--measurement", a->measurements, "SEV-SNP: allowed MEASUREMENT hex (repeatable)");
  cmd->add_option("--mrtd", a->mr_td, "TDX: allowed MRTD hex (repeatable)");
  cmd->add_option("--max-vmpl", a->max_vmpl, "SEV-SNP: highest VMPL accepted");
  cmd->add_flag("--allow-debug", a->allow_debug, "accept debug-enabled guests (SNP policy bit 19, TD DEBUG)");
  cmd->add_flag("--allow-none", a->allow_none, "accept development-mode (none) evidence");
  cmd->add_option("--policy", a->policy,
                  "policy file: its evidence pins (measurements, TCB, debug, VMPL, RTMRs, PCRs), accepted types "
                  "and, with --identity, accepted key origins");
  cmd->add_flag("--json", a->json, "print the verdict as JSON");
  cmd->callback([&globals, exit_code, a]() { *exit_code = RunEvidenceVerify(globals, *a); });
}

}  // namespace resmeter
