// The one table of global configuration keys. Every key here must be
// documented in configs/resmeter.yaml (a unit test checks that).
#include "agent/config.h"

namespace resmeter {

const std::vector<OptionSpec>& GlobalSchema() {
  using T = OptionType;
  static const std::vector<OptionSpec> kSchema = {
      {"state_dir", T::kString, "/var/lib/resmeter", {}, {}, {},
       "directory for the signing key and the ledger"},
      {"paths.proc_root", T::kString, "/proc", {}, {}, {}, "where procfs is mounted (tests use fixtures)"},
      {"paths.sys_root", T::kString, "/sys", {}, {}, {}, "where sysfs is mounted (tests use fixtures)"},
      {"report.algorithm", T::kString, "EdDSA", {}, {}, {"EdDSA", "ES384"},
       "signature algorithm of a new key (key init)"},
      {"report.validity_seconds", T::kInt, 3600, 60, 30 * 86400, {},
       "exp = iat + this many seconds"},
      {"time.chrony_socket", T::kString, "/run/chrony/chronyd.sock", {}, {}, {},
       "chronyd's command socket (Unix datagram) that the time assessment queries"},
      {"time.client_socket_dir", T::kString, "", {}, {}, {},
       "where resmeter creates its reply socket; empty: next to time.chrony_socket"},
      {"time.max_error_bound_seconds", T::kDouble, 0.1, 1e-6, 3600, {},
       "time is trusted only when synced via NTS with an error bound below this"},
      {"time.timeout_seconds", T::kDouble, 0.5, 0.01, 10, {}, "wait for each chronyd reply attempt"},
      {"time.attempts", T::kInt, 3, 1, 10, {}, "sends per chronyd request (first try plus retries)"},
      {"time.max_clock_error_ppm", T::kDouble, 1.0, 0, 1000, {},
       "assumed frequency error of the clock itself in the error bound (chrony's maxclockerror)"},
      {"verify.allowed_algorithms", T::kStringList, nlohmann::json::array({"EdDSA", "ES384"}), {}, {}, {},
       "JWS algorithms verify accepts (never none)"},
      {"verify.max_clock_skew_seconds", T::kInt, 60, 0, 3600, {},
       "how far in the future iat may be, and leeway after exp"},
      {"evidence.backend", T::kString, "auto", {}, {}, {"auto", "sev-snp", "tdx", "tpm2", "none"},
       "hardware evidence source: auto-detect, require one, or none (development mode)"},
      {"evidence.configfs_tsm_root", T::kString, "/sys/kernel/config/tsm/report", {}, {}, {},
       "configfs-tsm report directory (SEV-SNP and TDX evidence)"},
      {"evidence.tpm_tcti", T::kString, "device:/dev/tpmrm0", {}, {}, {},
       "tss2 TCTI of the TPM, e.g. device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321"},
      {"evidence.tpm_pcr_bank", T::kString, "sha256", {}, {}, {"sha1", "sha256", "sha384"},
       "PCR bank the TPM quote covers"},
      {"evidence.tpm_pcrs", T::kStringList, nlohmann::json::array({"0", "1", "2", "3", "4", "5", "6", "7"}), {}, {},
       {}, "PCR indices the TPM quote covers"},
      {"evidence.trust_anchors_dir", T::kString, "/etc/resmeter/trust-anchors", {}, {}, {},
       "AMD ARK/ASK chains and Intel's SGX root used to verify evidence"},
  };
  return kSchema;
}

}  // namespace resmeter
