// ConfigfsTsmBackend: collects SEV-SNP reports and TDX quotes through Linux's
// configfs-tsm interface (Linux >= 6.7, Documentation/ABI/testing/configfs-tsm),
// by default under /sys/kernel/config/tsm/report.
//
// One Collect call: mkdir <root>/<unique entry>; wait (bounded) for its
// attributes; read `provider` (sev_guest -> sev-snp, tdx_guest -> tdx); write
// the 64-byte user data to `inblob`; read `outblob` (the report or quote);
// read `generation`, which must equal the number of writes made (1), else
// another writer raced us and the outblob may answer their inblob (IOError
// "generation raced"); read `auxblob` (SNP certificate table, may be empty);
// read `generation` again, which must be unchanged; remove the entry, also on
// every error. An empty or missing outblob is re-read until the wait bound
// (a provider may still be producing it). When rmdir finds a non-configfs
// directory (a test tree), its plain files are unlinked first.
//
// Collect is not reentrant per instance; separate instances may run at once
// (entry names are unique per process and call).
#pragma once

#include <string>

#include "evidence/evidence.h"

namespace resmeter {

struct ConfigfsTsmOptions {
  std::string root = "/sys/kernel/config/tsm/report";
  double wait_seconds = 5.0;  // bound on waiting for attributes and outblob
  int privlevel = -1;         // >= 0: written to `privlevel` (SNP VMPL) before inblob
};

class ConfigfsTsmBackend : public EvidenceBackend {
 public:
  explicit ConfigfsTsmBackend(ConfigfsTsmOptions options);
  // The type of the last successful Collect or Probe (kNone before).
  EvidenceType type() const override { return type_; }
  // {"type", "provider", "user_data" (hex), "report" (sev-snp) or "quote" (tdx)
  //  (base64 outblob), "auxblob" (base64, may be ""), "generation"}.
  Result<nlohmann::json> Collect(const std::string& user_data) override;
  // Creates and removes an entry to learn the provider; NotSupported when the
  // root is absent, NotFound when the provider attribute is missing.
  Result<EvidenceType> Probe();

 private:
  ConfigfsTsmOptions options_;
  EvidenceType type_ = EvidenceType::kNone;
};

// Maps a configfs-tsm provider name to its evidence type.
Result<EvidenceType> EvidenceTypeForTsmProvider(const std::string& provider);

}  // namespace resmeter
