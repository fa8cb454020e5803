// libFuzzer target: the SEV-SNP report parser and the SNP certificate-table
// (auxblob) parser on arbitrary bytes. Must never crash, leak or read out of
// bounds; any input either parses or yields a Status.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "evidence/evidence_sev_snp.h"
#include "evidence/sev_snp_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto report = resmeter::SevSnpReport::Parse(bytes);
  if (report.ok()) {
    (void)report->ToJson().dump();
    (void)report->SignedBytes();
    (void)report->reported_tcb.AtLeast(report->launch_tcb);
  }
  auto vcek = resmeter::VcekFromCertTable(bytes);
  if (vcek.ok() && vcek->size() > size) __builtin_trap();  // an entry can never exceed its table
  return 0;
}
