// libFuzzer target: identity documents and the evidence JSON dispatch
// (VerifyIdentityDocument, VerifyEvidenceJson) with fixed options: the
// shipped trust anchors, a pinned certificate time, and "none" evidence both
// refused and allowed. Must never crash or throw; every input either
// verifies or yields a Status.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "fuzz_support.h"
#include "evidence/evidence_verifier.h"

namespace {

resmeter::EvidenceVerifyOptions Options(bool allow_none) {
  resmeter::EvidenceVerifyOptions o;
  o.trust_anchors_dir = RESMETER_SOURCE_DIR "/configs/trust-anchors";
  o.at = 1735689600;  // 2025-01-01, inside the real certificates' validity
  o.allow_none = allow_none;
  o.snp.allow_debug = true;  // the real Milan report allows debugging
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  static const resmeter::EvidenceVerifyOptions refuse_none = Options(false);
  static const resmeter::EvidenceVerifyOptions allow_none = Options(true);
  for (const auto* options : {&refuse_none, &allow_none}) {
    auto v = resmeter::VerifyIdentityDocument(doc, std::nullopt, *options);
    if (v.ok()) (void)v->ToJson().dump();
    (void)resmeter::VerifyIdentityDocument(doc, resmeter::fuzz::kCorpusNonceHex, *options);
  }
  // The evidence member alone, unbound, as `resmeter evidence verify` reads it.
  if (doc.is_object() && doc.contains("evidence")) {
    auto v = resmeter::VerifyEvidenceJson(doc["evidence"], std::nullopt, allow_none);
    if (v.ok()) (void)v->ToJson().dump();
  }
  return 0;
}
