// libFuzzer target: the HTML renderers (html/) on any JSON a hostile report
// or ledger could carry, as the verify object's claims, the whole verify
// object, and a ledger audit object; and the fio bin parser. Must never
// crash, throw or loop; the page must hold exactly one script (its own).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/fio_latency_bins.h"
#include "core/untrusted_json.h"
#include "html/ledger_page.h"
#include "html/verify_page.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json j = resmeter::ParseUntrustedJsonOrDiscarded(text);
  if (j.is_discarded()) return 0;
  const nlohmann::json wrapped = {{"verdict", "REJECTED"}, {"claims", j}, {"policy", j}};
  for (const nlohmann::json* v : {&j, &wrapped}) {
    const std::string page = resmeter::html::RenderVerifyPage(*v, {"r", "p", 0});
    if (page.find("<script", page.find("<script") + 1) != std::string::npos) std::abort();
  }
  (void)resmeter::html::RenderLedgerPage(j, {});
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) (void)resmeter::FioBinsFromJson(it.value());
  return 0;
}
