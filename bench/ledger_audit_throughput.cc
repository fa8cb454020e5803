// Ledger v2 audit throughput: generates a ledger of N usage statements
// (default 200,000; every statement signed, 4 epochs), audits it pinned to
// one core with one thread and then with one thread per core, and prints
// statements per CPU-second next to `openssl speed -seconds 3 ed25519`
// verify/s measured in the same run on the same core. Target: per core >=
// 0.8x the raw verify rate (a statement costs one verification).
//   ledger_audit_throughput [--statements N] [--dir D]
#include <sched.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/strings.h"
#include "ledger/ledger_audit.h"
#include "ledger/ledger_files.h"
#include "jose/signing_key.h"
#include "support/ledger_generator.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

double WallNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Runs `openssl speed` on `cpu`; returns Ed25519 verifications/s (0 when unavailable).
double OpensslEd25519VerifiesPerSecond(int cpu, std::string* line_out) {
  const std::string cmd =
      "taskset -c " + std::to_string(cpu) + " openssl speed -seconds 3 ed25519 2>/dev/null";
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

double ProcessCpuSeconds() {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// One audit run: wall and process CPU seconds.
struct AuditRun {
  double wall_s = 0, cpu_s = 0;
  LedgerAuditResult result;
};

Result<AuditRun> TimedAudit(const std::vector<std::string>& files, unsigned threads) {
  LedgerAuditOptions o;
  o.evidence.allow_none = true;  // the generated ledger has development evidence
  o.threads = threads;
  o.now_unix_seconds = 4e9;
  AuditRun run;
  const double t0 = WallNow(), c0 = ProcessCpuSeconds();
  RESMETER_ASSIGN_OR_RETURN(run.result, AuditLedger(files, o));
  run.cpu_s = ProcessCpuSeconds() - c0;
  run.wall_s = WallNow() - t0;
  if (!run.result.clean() || run.result.authenticated_statements != run.result.statements)
    return Status::Corruption("audit found integrity problems in a generated ledger");
  return run;
}

int Main(int argc, char** argv) {
  uint64_t statements = 200'000;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--statements"))
      statements = *ParseUint64(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir"))
      dir = argv[i + 1];
  }
  cpu_set_t all;
  sched_getaffinity(0, sizeof all, &all);
  const int cores = CPU_COUNT(&all);
  const int cpu = sched_getcpu();

  TempDir tmp;
  LedgerGeneratorOptions g;
  g.dir = (dir.empty() ? tmp.path() : dir) + "/ledger";
  g.usage_statements = statements;
  g.restarts = 3;
  g.new_key_per_restart = true;
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

  // One core: pinned, one verifying thread.
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  sched_setaffinity(0, sizeof one, &one);
  auto single = TimedAudit(files, 1);
  std::string openssl_line;
  const double ossl = OpensslEd25519VerifiesPerSecond(cpu, &openssl_line);
  // Every core: one verifying thread per core.
  sched_setaffinity(0, sizeof all, &all);
  auto multi = TimedAudit(files, static_cast<unsigned>(cores));
  if (!single.ok() || !multi.ok()) {
    std::fprintf(stderr, "audit failed: %s\n", (!single.ok() ? single : multi).status().message().c_str());
    return 1;
  }
  const double n = static_cast<double>(single->result.statements);
  // openssl speed divides by user CPU time (unless -elapsed); so does the per-core rate.
  const double per_core = n / single->cpu_s;
  const double multi_wall = n / multi->wall_s;

  std::printf("ledger audit throughput (v2: every statement signed, Ed25519)\n");
  std::printf(
      "  ledger: %llu statements (%llu usage, %zu epochs), %zu files, %.1f MiB; generated in %.1f s\n",
      static_cast<unsigned long long>(single->result.statements), static_cast<unsigned long long>(statements),
      single->result.epochs.size(), files.size(), static_cast<double>(bytes) / (1 << 20), gen_s);
  std::printf("  one core (cpu %d, 1 thread): %.2f s wall, %.2f s CPU -> %.0f statements per CPU-second\n",
              cpu, single->wall_s, single->cpu_s, per_core);
  std::printf(
      "  all %d cores (%d threads): %.2f s wall, %.2f s CPU -> %.0f statements/s wall clock (%.2fx one "
      "core)\n",
      cores, cores, multi->wall_s, multi->cpu_s, multi_wall, multi_wall / per_core);
  if (ossl > 0) {
    std::printf("  openssl speed -seconds 3 ed25519 (cpu %d, per CPU-second): %.0f verify/s   [%s]\n", cpu,
                ossl, openssl_line.c_str());
    std::printf("  per core: %.2fx the raw verify rate (target >= 0.8x): %s\n", per_core / ossl,
                per_core >= 0.8 * ossl ? "met" : "NOT met");
  } else {
    std::printf("  openssl speed ed25519: unavailable\n");
  }
  std::printf("  note: all-core wall rate depends on what else runs on the machine\n");
  return 0;
}

}  // namespace
}  // namespace resmeter

int main(int argc, char** argv) { return resmeter::Main(argc, argv); }
