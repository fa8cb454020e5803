// Ledger audit throughput on one core: generates a ledger of N usage
// statements (default 1,000,000; signed checkpoint every 60), audits it with
// full authentication, and prints statements/s next to
// `openssl speed -seconds 3 ed25519` run in the same go, pinned to the same
// core, as a ratio. Target: >= 50,000 statements/s.
//   ledger_audit_throughput [--statements N] [--checkpoint-every K] [--dir D]
#include <sched.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/strings.h"
#include "reporter/ledger_audit.h"
#include "reporter/ledger_files.h"
#include "reporter/signing_key.h"
#include "support/ledger_generator.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

double ThreadCpuSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double WallNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs `openssl speed` on `cpu`; returns Ed25519 verifications/s (0 when unavailable).
double OpensslEd25519VerifiesPerSecond(int cpu, std::string* line_out) {
  const std::string cmd = "taskset -c " + std::to_string(cpu) + " openssl speed -seconds 3 ed25519 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return 0;
  char buf[512];
  double verify = 0;
  while (std::fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    if (line.find("Ed25519") == std::string::npos || line.find('s') == std::string::npos) continue;
    auto fields = SplitWhitespace(line);
    if (fields.size() >= 2) {
      if (auto v = ParseDouble(fields.back())) {
        verify = *v;
        *line_out = std::string(Trim(line));
      }
    }
  }
  ::pclose(p);
  return verify;
}

int Main(int argc, char** argv) {
  uint64_t statements = 1'000'000;
  uint32_t checkpoint_every = 60;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--statements")) statements = *ParseUint64(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--checkpoint-every")) checkpoint_every = static_cast<uint32_t>(*ParseUint64(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  const int cpu = sched_getcpu();
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);

  TempDir tmp;
  LedgerGeneratorOptions g;
  g.dir = (dir.empty() ? tmp.path() : dir) + "/ledger";
  g.usage_statements = statements;
  g.checkpoint_every = checkpoint_every;
  g.restarts = 3;
  auto key = *SigningKey::Generate(kAlgEdDSA);
  double t0 = WallNow();
  auto sum = GenerateLedger(g, key);
  if (!sum.ok()) {
    std::fprintf(stderr, "generate: %s\n", sum.status().message().c_str());
    return 1;
  }
  const double gen_s = WallNow() - t0;
  auto files = *ListLedgerFiles(g.dir);
  uint64_t bytes = 0;
  for (const auto& f : files) bytes += std::filesystem::file_size(f);

  t0 = WallNow();
  const double c0 = ThreadCpuSeconds();
  auto audit = AuditLedger(files, key->public_key(), {});
  const double cpu_s = ThreadCpuSeconds() - c0;
  const double wall_s = WallNow() - t0;
  if (!audit.ok() || !audit->clean() || audit->authenticated_statements != audit->statements) {
    std::fprintf(stderr, "audit failed: %s\n", audit.ok() ? "integrity findings" : audit.status().message().c_str());
    return 1;
  }
  std::string openssl_line;
  const double ossl = OpensslEd25519VerifiesPerSecond(cpu, &openssl_line);
  const double rate = static_cast<double>(audit->statements) / wall_s;
  // openssl speed divides by user CPU time (unless -elapsed); so does the ratio.
  const double cpu_rate = static_cast<double>(audit->statements) / cpu_s;

  std::printf("ledger audit throughput (one core, cpu %d)\n", cpu);
  std::printf("  ledger: %llu statements (%llu usage, checkpoint every %u, %zu restarts), %zu files, %.1f MiB; generated in %.1f s\n",
              static_cast<unsigned long long>(audit->statements), static_cast<unsigned long long>(statements),
              checkpoint_every, audit->restarts.size(), files.size(), static_cast<double>(bytes) / (1 << 20), gen_s);
  std::printf("  audit: %.2f s wall, %.2f s CPU; %llu signatures verified, %llu statements authenticated\n", wall_s,
              cpu_s, static_cast<unsigned long long>(audit->signatures_verified),
              static_cast<unsigned long long>(audit->authenticated_statements));
  std::printf("  audit rate: %.0f statements/s per CPU-second of one core (%.0f statements/s wall clock on a shared machine)\n",
              cpu_rate, rate);
  if (ossl > 0) {
    std::printf("  openssl speed -seconds 3 ed25519 (same core, per CPU-second): %.0f verify/s   [%s]\n", ossl,
                openssl_line.c_str());
    std::printf("  ratio: %.1fx the rate of one Ed25519 verification per statement\n", cpu_rate / ossl);
  } else {
    std::printf("  openssl speed ed25519: unavailable\n");
  }
  std::printf("  target >= 50000 statements/s on one core: %s\n", cpu_rate >= 50000 ? "met" : "NOT met");
  return 0;
}

}  // namespace
}  // namespace resmeter

int main(int argc, char** argv) { return resmeter::Main(argc, argv); }
