// libFuzzer target: the TDX version-4 quote parser, and the PEM parsing of the
// PCK chain it carries, on arbitrary bytes. Must never crash, leak or read out
// of bounds; any input either parses or yields a Status.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "evidence/evidence_crypto.h"
#include "evidence/tdx_quote.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto quote = resmeter::TdxQuote::Parse(bytes);
  if (!quote.ok()) return 0;
  if (quote->quote_size + quote->trailing_bytes != size) __builtin_trap();
  (void)quote->ToJson().dump();
  auto certs = resmeter::ParseCertificates(quote->pck_chain_pem, "fuzz PCK chain");
  if (certs.ok()) {
    for (const auto& c : *certs) (void)resmeter::CertificateCommonName(c.get());
  }
  return 0;
}
