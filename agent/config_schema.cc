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
      {"agent.listen", T::kString, "127.0.0.1:9464", {}, {}, {},
       "host:port of the agent's HTTP server (/metrics and /v1/*); loopback by default"},
      {"agent.http_threads", T::kInt, 4, 1, 64, {}, "HTTP worker threads (bounds concurrent clients)"},
      {"agent.light_interval_seconds", T::kDouble, 15.0, 1.0, 3600.0, {}, "light meters run this often"},
      {"agent.heavy_interval_seconds", T::kDouble, 3600.0, 0.0, 7 * 86400.0, {},
       "heavy meters run this often (0: only on demand)"},
      {"agent.heavy_jitter_ratio", T::kDouble, 0.1, 0.0, 0.5, {},
       "heavy runs start within +/- this fraction of the interval so a fleet does not benchmark at once"},
      {"agent.cpu_budget_ratio", T::kDouble, 0.01, 0.001, 1.0, {},
       "share of one core the agent may use outside heavy runs before it stretches the light interval"},
      {"api.max_body_bytes", T::kInt, 4096, 64, 1048576, {}, "largest request body accepted (413 beyond)"},
      {"api.max_header_bytes", T::kInt, 8192, 1024, 65536, {}, "largest request line plus headers"},
      {"api.request_timeout_seconds", T::kDouble, 10.0, 0.5, 300.0, {},
       "a client that stalls a read or write this long is disconnected"},
      {"api.attest_rate_per_minute", T::kDouble, 6.0, 0.1, 6000.0, {},
       "POST /v1/attest requests admitted per minute (token bucket; 429 beyond)"},
      {"api.attest_burst", T::kInt, 3, 1, 1000, {}, "POST /v1/attest requests admitted at once after a quiet period"},
      {"api.attest_heavy", T::kBool, false, {}, {}, {},
       "allow {\"heavy\": true} in POST /v1/attest to run the heavy meters as part of the challenge"},
      {"api.attest_wait_seconds", T::kDouble, 30.0, 0.0, 600.0, {},
       "how long an attest request waits for a running measurement before 503"},
      {"api.ledger_max_lines", T::kInt, 10000, 1, 1000000, {}, "most statements one GET /v1/ledger returns"},
      {"ledger.enabled", T::kBool, true, {}, {}, {}, "append usage statements to <state_dir>/ledger"},
      {"ledger.period_seconds", T::kDouble, 60.0, 1.0, 86400.0, {}, "one usage statement per this many seconds"},
      {"ledger.max_file_bytes", T::kInt, 64 * 1024 * 1024, 4096, int64_t{1} << 40, {},
       "rotate to a new ledger file once the current one reaches this size"},
      {"ledger.checkpoint_every", T::kInt, 60, 0, 100000, {},
       "usage statements per signed checkpoint (0: only at rotation and shutdown)"},
      {"log.format", T::kString, "logfmt", {}, {}, {"logfmt", "json"}, "format of the agent's log lines on stderr"},
      {"log.level", T::kString, "info", {}, {}, {"debug", "info", "warn", "error"}, "least severe level logged"},
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
