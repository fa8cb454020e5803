// libFuzzer target: the code that walks report claims a verifier received
// (untrusted JSON once the signature is someone else's): the probe/verify
// summary tables, the time claim description and claim value formatting.
// Must never crash or throw, whatever the JSON's shape.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/summary_table.h"
#include "fuzz_support.h"
#include "cli/time_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json claims = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (claims.is_discarded()) return 0;
  resmeter::fuzz::NullStream out;
  resmeter::PrintTrustLines(out, claims);
  if (claims.is_object()) {
    if (claims.contains("submods")) resmeter::PrintSubmodsTable(out, claims["submods"]);
    if (claims.contains("time")) (void)resmeter::DescribeTimeClaim(claims["time"]);
    for (const auto& [name, value] : claims.items()) out << resmeter::FormatClaimValue(name, value);
  }
  // A bare submods object or any other value, as a hostile report could carry.
  resmeter::PrintSubmodsTable(out, claims);
  (void)resmeter::DescribeTimeClaim(claims);
  return 0;
}
