// libFuzzer target: the JWS compact parser and the report verifier (with the
// corpus key, with and without a nonce), then what `resmeter verify` prints
// for a token that verified, and the whole appraisal (its own cnf.jwk as the
// key) with its EAR. Must never crash or throw; any input either verifies or
// yields a Status or a failed check.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/summary_table.h"
#include "fuzz_support.h"
#include "report/ear.h"
#include "jose/jws.h"
#include "report/report_appraisal.h"
#include "report/report_verifier.h"

namespace {

void Verify(const std::string& token, const char* nonce) {
  resmeter::ReportVerifyOptions options;
  options.now_unix_seconds = resmeter::fuzz::kCorpusNowUnixSeconds;
  if (nonce) options.expected_nonce_hex = nonce;
  auto v = resmeter::VerifyReport(token, resmeter::fuzz::CorpusPublicKey(), options);
  if (!v.ok()) return;
  resmeter::fuzz::NullStream out;
  resmeter::PrintChecksTable(out, *v);
  if (v->valid) {
    // As verify_command.cc does for a valid report.
    resmeter::PrintTrustLines(out, v->claims);
    resmeter::PrintSubmodsTable(out, v->claims["submods"]);
  }
  (void)v->header.dump();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string token(reinterpret_cast<const char*>(data), size);
  auto parsed = resmeter::ParseJws(token);
  if (parsed.ok()) {
    (void)parsed->header.dump();
    (void)resmeter::fuzz::CorpusPublicKey().Verify(parsed->signing_input, parsed->signature);
  }
  Verify(token, nullptr);
  Verify(token, resmeter::fuzz::kCorpusNonceHex);
  resmeter::AppraisalInputs in;
  in.now_unix_seconds = resmeter::fuzz::kCorpusNowUnixSeconds;
  in.evidence.trust_anchors_dir = "/nonexistent";
  const resmeter::ReportAppraisal a = resmeter::AppraiseReportDetailed(token, in);
  (void)a.verdict.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)resmeter::BuildEar(a, {}).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
