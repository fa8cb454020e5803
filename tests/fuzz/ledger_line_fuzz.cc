// libFuzzer target: the usage ledger v2's line parsers (ParseFlatJsonObject,
// ParseLedgerLine, VerifyLedgerSignature with the corpus key) on the first
// line, then the whole input as a ledger file through the reader, the chain
// walk (epoch keys from the input itself) and the audit. Must never crash or
// throw; bad lines are findings of the audit.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "ledger/flat_json.h"
#include "ledger/ledger_audit.h"
#include "ledger/ledger_statement.h"

namespace {

// Writes `bytes` to an in-memory file (no disk I/O per run) and returns its fd.
int MemoryFile(std::string_view bytes) {
  int fd = ::memfd_create("ledger", MFD_CLOEXEC);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string_view line = bytes.substr(0, bytes.find('\n'));

  resmeter::FlatJsonMember members[32];
  size_t count = 0;
  (void)resmeter::ParseFlatJsonObject(line, members, 32, &count);
  auto statement = resmeter::ParseLedgerLine(line);
  if (statement.ok()) {
    (void)resmeter::SerializeLedgerBody(*statement);
    (void)resmeter::VerifyLedgerSignature(line, resmeter::fuzz::CorpusPublicKey());
  }

  int fd = MemoryFile(bytes);
  if (fd < 0) return 0;
  resmeter::LedgerAuditOptions options;
  options.evidence.allow_none = true;  // "none" epochs pass; other evidence fails without anchors
  options.evidence.trust_anchors_dir = "/nonexistent";
  options.now_unix_seconds = 1'800'000'000 + 3600;
  options.threads = 1;
  options.from_unix_seconds = 1'800'000'000 + 90;  // prorating at both ends
  options.to_unix_seconds = 1'800'000'000 + 1000;
  options.policy_violated = [](const resmeter::LedgerStatement& s) -> std::optional<bool> {
    return s.gpu_seconds > 0;
  };
  auto audit = resmeter::AuditLedger({"/proc/self/fd/" + std::to_string(fd)}, options);
  if (audit.ok()) (void)resmeter::LedgerAuditVerdict(*audit);
  ::close(fd);
  return 0;
}
