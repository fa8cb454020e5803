// The collector against a simulated fleet (tests/support/agent_fleet_sim.h)
// on loopback, with SQLite and with a real PostgreSQL 15 started by the test:
// 50 agents with accelerated periods (one statement per 0.5 s: an hour of
// 10-s periods every three minutes) for 150 s each (RESMETER_FLEET_SECONDS
// overrides it), nine of them misbehaving from 60 s on. Every planted fork,
// rollback, tamper, dead agent, slowloris and bad answer must appear as its
// event (a lasting condition once, not once per pull); honest agents are
// stored exactly as their ledgers (nothing lost, nothing twice) and billed
// as `resmeter ledger audit` bills the same statements. Then failover: two
// collectors on one PostgreSQL; one is stopped without giving its leases
// back (a crash); the other takes its agents over and no statement is lost
// or stored twice.
//
// CPU: about 0.13 of one core per fleet run (the simulator's signing, the
// collector's verifying, HTTP and SQLite: 19 CPU-s in 151 s on the shared
// 2-core build machine; a PostgreSQL server's own CPU comes on top), so the
// two fleet runs share the parallel e2e tier with the other tests without
// starving them; they take no RESOURCE_LOCK and are not RUN_SERIAL.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "collector/collector.h"
#include "collector/collector_api.h"
#include "core/untrusted_json.h"
#include "ledger/ledger_files.h"
#include "support/agent_fleet_sim.h"
#include "support/postgres_server.h"
#include "support/shell_command.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

std::shared_ptr<CollectorSettings> TestSettings(const std::string& name, const std::string& database,
                                                const std::string& state_dir) {
  auto s = std::make_shared<CollectorSettings>();
  s->name = name;
  s->database = database;
  s->state_dir = state_dir;
  s->pull_interval_seconds = 0.5;
  s->attest_interval_seconds = 2;
  s->slow_seconds = 1.0;
  s->fetch.connect_timeout_seconds = 1;
  s->fetch.deadline_seconds = 1.5;         // the slowloris agent is cut off here
  s->fetch.max_response_bytes = 4u << 20;  // the huge agent sends 24 MiB
  s->workers = 8;
  s->lease_ttl_seconds = 2;
  s->allow_dev_evidence = true;   // the simulator's evidence is "none"
  s->allow_fixture_roots = true;  // its reports are not live
  s->evidence.allow_none = true;
  return s;
}

// The fleet runs' length in seconds: RESMETER_FLEET_SECONDS (at least 20), else 150.
double FleetSeconds() {
  const char* v = std::getenv("RESMETER_FLEET_SECONDS");
  const double s = v ? std::atof(v) : 0;
  return s >= 20 ? s : 150;
}

std::vector<std::string> AgentLedgerLines(const std::string& dir) {
  std::vector<std::string> out;
  auto files = ExpandLedgerPaths({dir});
  if (!files.ok()) return out;
  for (const auto& f : *files) {
    std::ifstream in(f);
    std::string line;
    while (std::getline(in, line)) out.push_back(line);
  }
  return out;
}

std::set<std::string> EventKinds(CollectorStore& store, int64_t agent_id, bool errors_only = false) {
  std::set<std::string> kinds;
  auto events = store.Events(agent_id, 10000);
  if (!events.ok()) return kinds;
  for (const auto& e : *events)
    if (!errors_only || e.severity == "error") kinds.insert(e.kind + (errors_only ? ": " + e.detail : ""));
  return kinds;
}

// The stored statements of every agent: seqs 1..n, each once, no other versions.
void ExpectContiguous(CollectorStore& store, const CollectorAgent& a, uint64_t* count) {
  auto lines = store.StatementLines(a.id, 1, 1000000);
  ASSERT_TRUE(lines.ok());
  for (size_t i = 0; i < lines->size(); ++i) ASSERT_EQ((*lines)[i].first, i + 1) << a.ueid;
  EXPECT_EQ(*store.CountVersions(a.id), 0u) << a.ueid;
  *count = lines->size();
}

void RunFleet(const std::string& database, const TempDir& dir) {
  const auto t0 = std::chrono::steady_clock::now();
  AgentFleetSimOptions so;
  so.dir = dir.path() + "/sim";
  so.agents = 50;
  so.behaviors = {SimBehavior::kFork, SimBehavior::kRollback,         SimBehavior::kTamper,
                  SimBehavior::kDead, SimBehavior::kSlowloris,        SimBehavior::kGarbage,
                  SimBehavior::kHuge, SimBehavior::kWrongContentType, SimBehavior::kWrongKey};
  const double run_seconds = FleetSeconds();
  so.period_seconds = 0.5;
  so.misbehave_at_seconds = run_seconds * 0.4;
  AgentFleetSim sim(so);
  ASSERT_TRUE(sim.Start().ok());
  auto store = CollectorStore::Open(database, dir.path());
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto settings = TestSettings("c1", database, dir.path());
  settings->pull_interval_seconds = 1;
  settings->attest_interval_seconds = 5;
  Collector collector(settings, std::move(*store));
  std::map<size_t, CollectorAgent> agents;
  for (size_t i = 0; i < sim.size(); ++i) {
    auto a = collector.Admit(sim.Identity(i), sim.Url(i), "api");
    ASSERT_TRUE(a.ok()) << a.status().message();
    agents[i] = *a;
  }
  // Admission verifies the identity: a document whose key does not match its evidence is refused.
  nlohmann::json forged = sim.Identity(9);
  forged["jwk"] = sim.Identity(10)["jwk"];
  EXPECT_FALSE(collector.Admit(forged, sim.Url(9), "api").ok());
  ASSERT_TRUE(collector.Start().ok());
  std::this_thread::sleep_for(std::chrono::duration<double>(run_seconds - 2));
  // The API while it runs: metrics carry only followed agents.
  CollectorApi api(&collector);
  HttpRequest metrics_req;
  metrics_req.method = "GET";
  metrics_req.path = "/metrics";
  const std::string metrics = api.Handle(metrics_req).body;
  EXPECT_NE(metrics.find("resmeter_collector_agent_up{ueid=\"" + agents[10].ueid + "\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("resmeter_collector_agent_up{ueid=\"" + agents[3].ueid + "\"} 0"),
            std::string::npos);
  EXPECT_NE(metrics.find("resmeter_collector_agent_report_accepted{ueid=\"" + agents[10].ueid + "\"} 1"),
            std::string::npos);
  collector.Stop(true);
  sim.Stop();
  CollectorStore& st = collector.store();

  const std::map<SimBehavior, std::string> expected = {{SimBehavior::kFork, "fork"},
                                                       {SimBehavior::kRollback, "rollback"},
                                                       {SimBehavior::kTamper, "finding.bad_signature"},
                                                       {SimBehavior::kDead, "unreachable"},
                                                       {SimBehavior::kSlowloris, "slow"},
                                                       {SimBehavior::kGarbage, "bad_response"},
                                                       {SimBehavior::kHuge, "bad_response"},
                                                       {SimBehavior::kWrongContentType, "bad_response"},
                                                       {SimBehavior::kWrongKey, "finding.unknown_key"}};
  for (size_t i = 0; i < sim.size(); ++i) {
    const auto kinds = EventKinds(st, agents[i].id);
    const SimBehavior b = sim.behavior(i);
    if (b != SimBehavior::kHonest) {
      EXPECT_TRUE(kinds.count(expected.at(b)))
          << "agent " << i << " (" << SimBehaviorName(b) << ") has no " << expected.at(b) << " event";
      if (b == SimBehavior::kDead || b == SimBehavior::kSlowloris) {
        // A lasting condition is one event, however many pulls fail during it.
        auto events = st.Events(agents[i].id, 100000);
        size_t raised = 0;
        for (const auto& e : *events) raised += e.kind == expected.at(b);
        EXPECT_EQ(raised, 1u) << "agent " << i << " (" << SimBehaviorName(b) << ")";
      }
      continue;
    }
    // Honest: no error event, an ACCEPTED challenge, and the ledger stored as it is.
    const auto errors = EventKinds(st, agents[i].id, true);
    EXPECT_TRUE(errors.empty()) << "agent " << i << ": " << *errors.begin();
    EXPECT_TRUE(kinds.count("verdict")) << "agent " << i << " was never challenged";
    uint64_t stored = 0;
    ExpectContiguous(st, agents[i], &stored);
    // Nearly the whole run: a statement per period, less the pull interval and the start.
    EXPECT_GT(stored, static_cast<uint64_t>((run_seconds - 10) / so.period_seconds)) << "agent " << i;
    const auto ledger = AgentLedgerLines(so.dir + "/agent-" + std::to_string(i) + "/ledger");
    auto lines = st.StatementLines(agents[i].id, 1, 1000000);
    ASSERT_LE(lines->size(), ledger.size());
    for (size_t k = 0; k < lines->size(); ++k) ASSERT_EQ((*lines)[k].second, ledger[k]) << "agent " << i;
  }
  // Forks and rollbacks keep both versions.
  EXPECT_GT(*st.CountVersions(agents[0].id), 0u);
  EXPECT_GT(*st.CountVersions(agents[1].id), 0u);

  // Bills: the API's bill equals `resmeter ledger audit` over the same statements.
  for (size_t i : {size_t{2}, size_t{10}}) {
    auto lines = st.StatementLines(agents[i].id, 1, 1000000);
    const std::string file = dir.path() + "/stored-" + std::to_string(i) + ".jsonl";
    {
      std::ofstream out(file);
      for (const auto& [seq, line] : *lines) out << line << "\n";
    }
    HttpRequest req;
    req.method = "GET";
    req.path = "/v1/agents/" + agents[i].ueid + "/bill";
    const HttpResponse r = api.Handle(req);
    ASSERT_EQ(r.status, 200) << r.body;
    nlohmann::json bill = ParseUntrustedJsonOrDiscarded(r.body);
    std::string out;
    RunShellCommand(std::string(RESMETER_BINARY) + " ledger audit --json --allow-dev-evidence " + file, &out);
    nlohmann::json audit = ParseUntrustedJsonOrDiscarded(out);
    ASSERT_TRUE(audit.is_object()) << out.substr(0, 300);
    EXPECT_EQ(bill["bill"], audit["bill"]) << "agent " << i;
    EXPECT_EQ(bill["hours"], audit["hours"]) << "agent " << i;
    EXPECT_EQ(bill["findings"].size(), audit["findings"].size()) << "agent " << i;
    EXPECT_EQ(bill["verdict"], audit["verdict"]) << "agent " << i;
    EXPECT_EQ(bill["verdict"], i == 2 ? "REJECTED" : "ACCEPTED");
    req.query = "format=csv";
    const HttpResponse csv = api.Handle(req);
    std::string audit_csv;
    RunShellCommand(
        std::string(RESMETER_BINARY) + " ledger audit --csv --allow-dev-evidence " + file + " 2>/dev/null",
        &audit_csv);
    EXPECT_EQ(csv.body, audit_csv) << "agent " << i;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("fleet run on %s: %.1f s, %llu statements written by honest histories\n", st.backend(), seconds,
              static_cast<unsigned long long>(sim.statements_written()));
}

TEST(CollectorFleet, SqliteFiftyAgentsWithMisbehaviour) {
  TempDir dir;
  RunFleet("", dir);
}

TEST(CollectorFleet, PostgresFiftyAgentsWithMisbehaviour) {
  PostgresServer pg;
  const std::string why = pg.Start();
  if (!why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  RunFleet(pg.Uri(), dir);
}

TEST(CollectorFleet, PostgresFailoverLosesNothing) {
  PostgresServer pg;
  const std::string why = pg.Start();
  if (!why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  AgentFleetSimOptions so;
  so.dir = dir.path() + "/sim";
  so.agents = 20;
  so.period_seconds = 0.2;
  so.misbehave_at_seconds = 1e9;
  AgentFleetSim sim(so);
  ASSERT_TRUE(sim.Start().ok());
  auto s1 = CollectorStore::Open(pg.Uri(), dir.path());
  auto s2 = CollectorStore::Open(pg.Uri(), dir.path());
  ASSERT_TRUE(s1.ok() && s2.ok());
  Collector c1(TestSettings("c1", pg.Uri(), dir.path()), std::move(*s1));
  Collector c2(TestSettings("c2", pg.Uri(), dir.path()), std::move(*s2));
  std::vector<CollectorAgent> agents;
  for (size_t i = 0; i < sim.size(); ++i) agents.push_back(*c1.Admit(sim.Identity(i), sim.Url(i), "api"));
  ASSERT_TRUE(c1.Start().ok());
  ASSERT_TRUE(c2.Start().ok());
  std::this_thread::sleep_for(std::chrono::seconds(6));
  // Both follow part of the fleet, and no agent twice.
  const size_t n1 = c1.Snapshots().size(), n2 = c2.Snapshots().size();
  EXPECT_GT(n1, 0u);
  EXPECT_GT(n2, 0u);
  EXPECT_EQ(n1 + n2, sim.size());
  // c1 "crashes": it stops without giving its leases back.
  c1.Stop(false);
  const auto killed = std::chrono::steady_clock::now();
  std::map<int64_t, uint64_t> at_kill;
  for (const auto& a : agents) at_kill[a.id] = *c2.store().LastSeq(a.id);
  // c2 takes every agent within lease TTL (2 s) + a lease round + a pull.
  while (c2.Snapshots().size() < sim.size() &&
         std::chrono::steady_clock::now() - killed < std::chrono::seconds(15)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double takeover = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  EXPECT_EQ(c2.Snapshots().size(), sim.size());
  EXPECT_LT(takeover, 6.0);
  std::printf("failover: c2 followed all %zu agents %.1f s after c1 stopped\n", sim.size(), takeover);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  c2.Stop(true);
  sim.Stop();
  for (size_t i = 0; i < agents.size(); ++i) {
    uint64_t stored = 0;
    ExpectContiguous(c2.store(), agents[i], &stored);
    EXPECT_GT(stored, at_kill[agents[i].id] + 5) << "agent " << i << " not pulled after the takeover";
    const auto ledger = AgentLedgerLines(so.dir + "/agent-" + std::to_string(i) + "/ledger");
    auto lines = c2.store().StatementLines(agents[i].id, 1, 1000000);
    ASSERT_LE(lines->size(), ledger.size());
    for (size_t k = 0; k < lines->size(); ++k) ASSERT_EQ((*lines)[k].second, ledger[k]) << "agent " << i;
  }
}

}  // namespace
}  // namespace resmeter
