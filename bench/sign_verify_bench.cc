// Report signing and verification throughput on one core, for a report of
// realistic size (ten meters with a dozen claims each). Prints reports/s.
#include <benchmark/benchmark.h>

#include "jose/jwk.h"
#include "report/report.h"
#include "report/report_verifier.h"
#include "jose/signing_key.h"

namespace resmeter {
namespace {

ReportInputs RealisticInputs() {
  ReportInputs in;
  in.issued_at_unix_seconds = 1'800'000'000;
  in.nonce_hex = "00112233445566778899aabbccddeeff";
  for (int m = 0; m < 10; ++m) {
    nlohmann::json claims;
    for (int c = 0; c < 12; ++c) claims["claim_" + std::to_string(c) + "_seconds"] = 1.0 / (c + 1);
    in.submods["meter." + std::to_string(m)] = {{"status", "ok"}, {"claims", claims}, {"duration_seconds", 0.5}};
  }
  return in;
}

void BM_SignReport(benchmark::State& state, const char* alg) {
  auto key = *SigningKey::Generate(alg);
  const ReportInputs in = RealisticInputs();
  for (auto _ : state) benchmark::DoNotOptimize(SignReport(in, *key));
  state.counters["reports_per_second"] = benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
}

void BM_VerifyReport(benchmark::State& state, const char* alg) {
  auto key = *SigningKey::Generate(alg);
  auto pub = *PublicKey::FromJwk(key->PublicJwk());
  const std::string token = *SignReport(RealisticInputs(), *key);
  ReportVerifyOptions options;
  options.now_unix_seconds = 1'800'000'001;
  for (auto _ : state) {
    auto v = VerifyReport(token, *pub, options);
    if (!v.ok() || !v->valid) state.SkipWithError("verification failed");
  }
  state.counters["reports_per_second"] = benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
  state.counters["report_bytes"] = static_cast<double>(token.size());
}

BENCHMARK_CAPTURE(BM_SignReport, EdDSA, kAlgEdDSA);
BENCHMARK_CAPTURE(BM_VerifyReport, EdDSA, kAlgEdDSA);
BENCHMARK_CAPTURE(BM_SignReport, ES384, kAlgES384);
BENCHMARK_CAPTURE(BM_VerifyReport, ES384, kAlgES384);

}  // namespace
}  // namespace resmeter
