// Collector bench (own main):
//  1. Ingestion throughput: a generated ledger of N statements (default
//     20,000) served by a loopback HttpServer from a LedgerIndex, pulled by
//     the collector's own AgentPuller (HTTP, parse, incremental audit with
//     one verifying thread, store) into SQLite, then PostgreSQL 15 (a
//     throw-away server, when it can start), pinned to one core. Prints
//     verified statements per CPU-second of this process next to `openssl
//     speed ed25519` verify/s on the same core (target >= 0.5x). The
//     PostgreSQL server's own CPU is not in that figure; it is printed apart.
//  2. 1,000 simulated agents (tests/support/agent_fleet_sim.h) followed by a
//     `resmeter collector` child process (SQLite): its pull round time (every
//     agent pulled once) and RSS after --fleet-seconds.
//   collector_throughput --binary build/resmeter [--statements N] [--agents N] [--fleet-seconds S]
//   (--statements 0: the fleet part only)
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include "agent/http_server.h"
#include "collector/agent_puller.h"
#include "collector/http_fetch.h"
#include "core/strings.h"
#include "jose/signing_key.h"
#include "ledger/ledger_index.h"
#include "support/agent_fleet_sim.h"
#include "support/ledger_generator.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

double WallNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
double CpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double OpensslVerifies(int cpu) {
  FILE* p = ::popen(
      ("taskset -c " + std::to_string(cpu) + " openssl speed -seconds 3 ed25519 2>/dev/null").c_str(), "r");
  if (!p) return 0;
  char buf[512];
  double v = 0;
  while (std::fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    if (line.find("Ed25519") == std::string::npos) continue;
    auto f = SplitWhitespace(line);
    if (f.size() >= 2)
      if (auto d = ParseDouble(f.back())) v = *d;
  }
  ::pclose(p);
  return v;
}

// Pulls the served ledger into `database`; prints and returns statements per CPU-second.
double IngestRun(const std::string& label, const std::string& database, const std::string& state_dir,
                 const std::string& url, const nlohmann::json& identity, uint64_t statements) {
  auto store = CollectorStore::Open(database, state_dir);
  if (!store.ok()) {
    std::printf("%s: %s\n", label.c_str(), store.status().message().c_str());
    return 0;
  }
  auto settings = std::make_shared<CollectorSettings>();
  settings->name = "bench";
  settings->allow_dev_evidence = true;
  settings->evidence.allow_none = true;
  settings->max_pages_per_pull = 1000000;
  settings->fetch.deadline_seconds = 60;
  settings->fetch.max_response_bytes = 64u << 20;
  CollectorAgent a;
  a.ueid = identity.value("ueid", "bench");
  a.kid = identity.value("kid", "bench");
  a.url = url;
  a.source = "bench";
  auto admitted = (*store)->AdmitAgent(a, identity.dump(), "none", 0);
  AgentPuller puller(*admitted, settings, store->get());
  const double w0 = WallNow(), c0 = CpuNow();
  Status s = puller.Pull();
  const double cpu = CpuNow() - c0, wall = WallNow() - w0;
  const AgentSnapshot snap = puller.Snapshot();
  if (!s.ok() || snap.authentic_statements != statements) {
    std::printf("%s: pull failed (%s), %llu of %llu statements\n", label.c_str(), s.message().c_str(),
                static_cast<unsigned long long>(snap.authentic_statements),
                static_cast<unsigned long long>(statements));
    return 0;
  }
  const double rate = static_cast<double>(statements) / cpu;
  std::printf(
      "%-10s %8llu statements  wall %6.2f s  cpu %6.2f s  %8.0f verified statements/s per core (%0.f/s "
      "wall)\n",
      label.c_str(), static_cast<unsigned long long>(statements), wall, cpu, rate,
      static_cast<double>(statements) / wall);
  return rate;
}

// utime + stime of `pid` in seconds (/proc/PID/stat fields 14 and 15).
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  const auto f = SplitWhitespace(std::string_view(text).substr(close + 2));
  if (f.size() < 13) return 0;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return (ParseDouble(std::string(f[11])).value_or(0) + ParseDouble(std::string(f[12])).value_or(0)) / ticks;
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

long RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (StartsWith(line, "VmRSS:"))
      return ParseInt64(std::string(Trim(SplitWhitespace(line)[1]))).value_or(0);
  return 0;
}

// Part 1: ingestion throughput against `openssl speed ed25519`. 0 or an exit status.
int IngestBench(const TempDir& tmp, uint64_t statements) {
  // 1. Ingestion.
  LedgerGeneratorOptions g;
  g.dir = tmp.path() + "/ledger";
  g.usage_statements = statements;
  g.start_unix_seconds = 1'600'000'000;
  auto key = *SigningKey::Generate(kAlgEdDSA);
  auto sum = GenerateLedger(g, key);
  if (!sum.ok()) return std::fprintf(stderr, "generate: %s\n", sum.status().message().c_str()), 1;
  LedgerIndex index;
  if (!index.Build(g.dir).ok()) return 1;
  HttpServer server;
  HttpServerOptions so;
  so.listen = "127.0.0.1:0";
  so.threads = 2;
  Status started = server.Start(so, [&index](const HttpRequest& req) {
    uint64_t from = 1;
    for (auto part : Split(req.query, '&'))
      if (StartsWith(part, "from=")) from = ParseUint64(part.substr(5)).value_or(1);
    HttpResponse r;
    r.content_type = "application/jsonl";
    auto page = index.Read(from, 2000);
    if (page.ok()) r.body = std::move(*page);
    return r;
  });
  if (!started.ok()) return 1;
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  nlohmann::json identity = {{"kid", key->Thumbprint()}, {"ueid", "bench-agent"}};
  const int cpu = sched_getcpu();
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  sched_setaffinity(0, sizeof one, &one);
  const double ossl = OpensslVerifies(cpu);
  std::printf("openssl speed ed25519 on cpu %d: %.0f verify/s\n", cpu, ossl);
  const double sqlite = IngestRun("sqlite", "", tmp.path(), url, identity, sum->last_seq);
  if (ossl > 0) std::printf("sqlite ratio to raw verify: %.2fx (target >= 0.5x)\n", sqlite / ossl);
  PostgresServer pg;
  const std::string why = pg.Start();
  if (why.empty()) {
    const double pgr = IngestRun("postgresql", pg.Uri(), tmp.path(), url, identity, sum->last_seq);
    if (ossl > 0)
      std::printf("postgresql ratio to raw verify: %.2fx (target >= 0.5x; server CPU not counted)\n",
                  pgr / ossl);
    pg.Stop();
  } else {
    std::printf("postgresql: skipped: %s\n", why.c_str());
  }
  server.Stop();
  cpu_set_t all;
  CPU_ZERO(&all);
  for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &all);
  sched_setaffinity(0, sizeof all, &all);

  return 0;
}

int Main(int argc, char** argv) {
  uint64_t statements = 20000;
  size_t agents = 1000;
  double fleet_seconds = 60;
  std::string binary;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--statements")) statements = *ParseUint64(argv[i + 1]);
    if (!std::strcmp(argv[i], "--agents")) agents = *ParseUint64(argv[i + 1]);
    if (!std::strcmp(argv[i], "--fleet-seconds")) fleet_seconds = *ParseDouble(argv[i + 1]);
    if (!std::strcmp(argv[i], "--binary")) binary = argv[i + 1];
  }
  TempDir tmp;
  if (statements > 0) {
    if (int rc = IngestBench(tmp, statements); rc != 0) return rc;
  }
  // 2. A fleet followed by the real binary.
  if (binary.empty() || agents == 0) return 0;
  AgentFleetSimOptions fo;
  fo.dir = tmp.path() + "/fleet";
  fo.agents = agents;
  fo.period_seconds = 1;
  fo.http_threads = 16;
  AgentFleetSim sim(fo);
  if (!sim.Start().ok()) return std::fprintf(stderr, "simulator did not start\n"), 1;
  const std::string config = tmp.path() + "/collector.yaml";
  {
    std::ofstream c(config);
    c << "state_dir: " << tmp.path()
      << "/collector\ncollector:\n  listen: 127.0.0.1:0\n  allow_dev_evidence: true\n"
      << "  allow_fixture_roots: true\n  pull_interval_seconds: 5\n  attest_interval_seconds: 60\n  workers: "
         "16\n"
      << "  agents:\n";
    for (size_t i = 0; i < agents; ++i) c << "    - " << sim.Url(i) << "\n";
  }
  const std::string log = tmp.path() + "/collector.log";
  const pid_t child = ::fork();
  if (child == 0) {
    std::freopen(log.c_str(), "w", stderr);
    ::execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), "collector", "--listen",
            "127.0.0.1:10299", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::printf("fleet: load average at start %s\n", LoadAverage().c_str());
  const double t0 = WallNow();
  long rss_max = 0;
  while (WallNow() - t0 < fleet_seconds) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    rss_max = std::max(rss_max, RssKiB(child));
  }
  HttpFetchOptions fetch;
  auto metrics = HttpFetch("http://127.0.0.1:10299", "GET", "/metrics", "", "", fetch);
  std::string round = "?", followed = "?";
  if (metrics.ok()) {
    for (auto line : Split(metrics->body, '\n')) {
      if (StartsWith(line, "resmeter_collector_pull_round_seconds ")) round = std::string(line.substr(38));
      if (StartsWith(line, "resmeter_collector_agents_followed ")) followed = std::string(line.substr(35));
    }
  }
  const double collector_cpu = ProcessCpuSeconds(child);
  std::printf(
      "fleet: %zu agents (1 statement/s each), pull interval 5 s (+-20%% jitter), 16 workers: followed %s, "
      "last pull round %s s, RSS %ld KiB now, %ld KiB max over %.0f s; collector CPU %.1f s (%.2f cores); "
      "load "
      "average at end %s\n",
      agents, followed.c_str(), round.c_str(), RssKiB(child), rss_max, fleet_seconds, collector_cpu,
      collector_cpu / (WallNow() - t0), LoadAverage().c_str());
  ::kill(child, SIGTERM);
  ::waitpid(child, nullptr, 0);
  sim.Stop();
  return 0;
}

}  // namespace
}  // namespace resmeter

int main(int argc, char** argv) { return resmeter::Main(argc, argv); }
