// Issue #18: claims are declared (claims/*_claim_specs.h), and every writer
// and reader is checked against the declarations: meters emit only declared
// keys, the policy table, the usage accountant and the metrics read declared
// claims, metric names follow Prometheus naming, and the README tables are
// the generated ones. A renamed claim fails here naming the claim and its
// readers. Wall time: about 0.3 s (hwloc loads of the fixture trees).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "agent/claim_tables.h"
#include "agent/usage_accountant.h"
#include "claims/claim_check.h"
#include "claims/disk_claim_specs.h"
#include "claims/net_claim_specs.h"
#include "gpu/gpu_devices_meter.h"
#include "meters/cpu/cpu_time.h"
#include "meters/cpu/cpu_topology.h"
#include "meters/disk/disk_io.h"
#include "meters/disk/disk_workload_plan.h"
#include "meters/memory/memory_capacity.h"
#include "meters/net/net_targets.h"
#include "meters/registry/registry.h"
#include "policy/policy_claims.h"
#include "test_env.h"

namespace resmeter {
namespace {

const std::string kFixtures = RESMETER_FIXTURES_DIR;
const std::vector<std::string> kMachines = {"vm_2cpu", "numa_2socket", "numa_2socket_inconsistent",
                                            "no_numa"};

// The registry row listing `spec`, or nullptr.
const MeterInfo* RowOf(const ClaimSpec* spec) {
  for (const MeterInfo& m : MeterRegistry())
    for (const ClaimSpec* s : m.claims)
      if (s == spec) return &m;
  return nullptr;
}

std::vector<std::string> SplitList(std::string_view list) {
  std::vector<std::string> out;
  std::stringstream in{std::string(list)};
  for (std::string item; std::getline(in, item, ',');) {
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool HasSuffix(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

TEST(declared_claims_test, every_meter_declares_well_formed_claims) {
  for (const MeterInfo& m : MeterRegistry()) {
    EXPECT_FALSE(m.claims.empty()) << m.name
                                   << " declares no claims (its registry row needs claims/*_claim_specs.h)";
    std::set<std::string> keys;
    for (const ClaimSpec* s : m.claims) {
      const bool shared_net = s->meter == "net" && m.name.rfind("net.", 0) == 0;
      EXPECT_TRUE(s->meter == m.name || shared_net) << s->Name() << " is listed by " << m.name;
      EXPECT_TRUE(keys.insert(std::string(s->key)).second) << m.name << " declares " << s->key << " twice";
      EXPECT_FALSE(s->meaning.empty()) << s->Name();
      // A key's literal parts are [a-z0-9_]; placeholders are {name} or {name:values}.
      const std::string example = ExpandClaimKey(*s, {});
      for (const std::string& p : s->Placeholders()) {
        EXPECT_FALSE(p.empty()) << s->Name();
        for (char c : p)
          EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << s->Name() << ": placeholder " << p;
      }
      for (char c : std::string(s->Leaf())) {
        EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '{' || c == '}' ||
                    c == ':' || c == '|' || c == '#')
            << s->Name();
      }
      if (s->IsElement()) {
        bool list_declared = false;
        for (const ClaimSpec* l : m.claims)
          list_declared |= !l->IsElement() && l->key == s->List() && l->type == ClaimType::kArray;
        EXPECT_TRUE(list_declared) << s->Name() << ": its list " << s->List() << " is not a declared array";
      }
    }
  }
}

TEST(declared_claims_test, metric_names_follow_prometheus_naming) {
  std::map<std::string, const ClaimSpec*> names;
  const std::vector<std::pair<std::string, std::string>> kUnitSuffix = {
      {"bytes", "_bytes"},    {"seconds", "_seconds"},          {"hertz", "_hertz"},
      {"ratio", "_ratio"},    {"bytes/s", "_bytes_per_second"}, {"bits/s", "_bits_per_second"},
      {"1/s", "_per_second"}, {"hertz/s", "_hertz_per_second"}};
  for (const MeterInfo& m : MeterRegistry()) {
    for (const ClaimSpec* s : m.claims) {
      if (s->metric.empty()) continue;
      const std::string metric(s->metric);
      auto [it, fresh] = names.emplace(metric, s);
      EXPECT_TRUE(fresh || it->second == s)
          << metric << " is declared by " << s->Name() << " and " << it->second->Name();
      std::string prefix = "resmeter_" + std::string(s->meter) + "_";
      for (char& c : prefix) c = c == '.' ? '_' : c;
      EXPECT_EQ(metric.rfind(prefix, 0), 0u)
          << metric << " of " << s->Name() << " must start with " << prefix;
      for (char c : metric)
        EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << metric;
      // Gauges: never a suffix Prometheus reserves for counters, histograms and identity.
      for (const char* reserved : {"_total", "_count", "_sum", "_bucket", "_created", "_info", "_value"})
        EXPECT_FALSE(HasSuffix(metric, reserved)) << metric << " of " << s->Name() << " ends in " << reserved;
      EXPECT_TRUE(s->type == ClaimType::kNumber || s->type == ClaimType::kInteger ||
                  s->type == ClaimType::kBool)
          << metric << ": only numbers and flags are gauges";
      for (const auto& [unit, suffix] : kUnitSuffix) {
        if (s->unit == unit) {
          EXPECT_TRUE(HasSuffix(metric, suffix)) << metric << " (" << unit << ") must end in " << suffix;
        }
      }
      if (s->IsElement()) {
        EXPECT_FALSE(s->element_label.empty()) << metric << ": list members need a label";
      }
    }
  }
  EXPECT_GT(names.size(), 50u);
}

TEST(declared_claims_test, policy_table_reads_declared_claims_both_ways) {
  std::set<std::string> table;
  for (const PolicyClaimSpec& p : PolicyClaimTable()) {
    table.insert(p.name);
    ASSERT_NE(p.claim, nullptr) << p.name;
    EXPECT_NE(RowOf(p.claim), nullptr)
        << "policy " << p.name << " reads " << p.claim->Name() << ", which no registry row declares";
    const auto names = SplitList(p.claim->policy_name);
    EXPECT_NE(std::find(names.begin(), names.end(), p.name), names.end())
        << "policy " << p.name << " reads " << p.claim->Name() << ", whose declaration names policies '"
        << p.claim->policy_name << "'";
    ClaimBindings b = p.bindings;
    for (auto& [name, value] : b)
      if (value == "N") value = "1";
    if (!p.claim->Placeholders().empty()) {
      EXPECT_TRUE(MatchClaimKey(*p.claim, ExpandClaimKey(*p.claim, b)))
          << p.name << " binds " << p.claim->Name();
    }
  }
  for (const MeterInfo& m : MeterRegistry()) {
    for (const ClaimSpec* s : m.claims) {
      for (const std::string& name : SplitList(s->policy_name)) {
        const PolicyClaimSpec* row = FindPolicyClaim(name);
        ASSERT_NE(row, nullptr) << s->Name() << " names policy " << name << ", which the policy table lacks";
        EXPECT_EQ(row->claim, s) << "policy " << name << " reads " << row->claim->Name() << ", not "
                                 << s->Name();
      }
    }
  }
  // Policy names are the users' vocabulary: the ones policies in the field use stay.
  for (const char* kept : {"cpu.vcpus", "cpu.burst_ghz", "memory.total_gib", "disk.rand_read_iops",
                           "gpu.count", "net.rtt_p99_ms"})
    EXPECT_TRUE(table.count(kept)) << kept;
}

TEST(declared_claims_test, usage_accountant_reads_declared_claims) {
  for (const ClaimSpec* s : UsageAccountant::ClaimsRead()) {
    EXPECT_NE(RowOf(s), nullptr) << "the usage accountant reads " << s->Name() << ", which no meter declares";
    EXPECT_TRUE(s->type == ClaimType::kNumber || s->type == ClaimType::kInteger) << s->Name();
  }
}

TEST(declared_claims_test, key_patterns_match_and_expand) {
  ClaimBindings b;
  ASSERT_TRUE(MatchClaimKey(kDiskIosPerSecond, "rand_read_qd32_ios_per_second", &b));
  EXPECT_EQ(b, (ClaimBindings{{"workload", "rand_read"}, {"queue_depth", "32"}}));
  EXPECT_EQ(ExpandClaimKey(kDiskIosPerSecond, b), "rand_read_qd32_ios_per_second");
  EXPECT_FALSE(MatchClaimKey(kDiskIosPerSecond, "mixed_qd32_ios_per_second"));
  EXPECT_FALSE(MatchClaimKey(kDiskIosPerSecond, "rand_read_qdx_ios_per_second"));
  EXPECT_FALSE(MatchClaimKey(kDiskIosPerSecond, "fsync_ios_per_second"));
  EXPECT_TRUE(MatchClaimKey(kDiskFsyncIosPerSecond, "fsync_ios_per_second"));
  EXPECT_EQ(kNetRttP99.List(), "targets");
  EXPECT_EQ(kNetRttP99.Leaf(), "rtt_p99_seconds");
  // Readers accept the key older agents wrote.
  const nlohmann::json old = {{"threads", 8}};
  const ClaimSpec& vcpus = *FindMeter("cpu.topology")->claims[2];
  ASSERT_EQ(vcpus.key, "vcpus");
  ASSERT_NE(FindClaim(old, vcpus), nullptr);
  EXPECT_EQ(*FindClaim(old, vcpus), 8);
}

// Runs a light meter on a fixture machine tree.
MeterResult RunOnMachine(Meter& meter, const std::string& machine, Options options = {}) {
  MeterContext ctx;
  ctx.env = DefaultEnv();
  ctx.proc_root = kFixtures + "/machines/" + machine + "/proc";
  ctx.sys_root = kFixtures + "/machines/" + machine + "/sys";
  ctx.options = std::move(options);
  return meter.Measure(ctx);
}

TEST(declared_claims_test, meters_on_fixtures_emit_only_declared_claims) {
  for (const std::string& machine : kMachines) {
    CpuTopologyMeter topology;
    MeterResult t = RunOnMachine(topology, machine);
    EXPECT_EQ(ExplainClaims("cpu.topology", t.claims), "") << machine;
    Options o;
    o.Set("mismatch_tolerance_ratio", 0.05);
    MemoryCapacityMeter memory;
    MeterResult m = RunOnMachine(memory, machine, o);
    EXPECT_EQ(ExplainClaims("memory.capacity", m.claims), "") << machine;
  }
  for (const std::string c : {"steal", "no_steal", "vm_2cpu"}) {
    SnapshotEnv env = SnapshotEnv::Sequence(kFixtures + "/cpu_time/" + c, {"t0", "t1"}, 1.0);
    MeterContext ctx;
    ctx.env = &env;
    ctx.options.Set("window_seconds", 1.0);
    CpuTimeMeter meter;
    MeterResult r = meter.Measure(ctx);
    EXPECT_EQ(r.status, MeterStatus::kOk) << c;
    EXPECT_EQ(ExplainClaims("cpu.time", r.claims), "") << c;
  }
  for (const std::string fixture : {"no_gpu", "nvidia_h100", "amd_two"}) {
    MeterContext ctx;
    ctx.env = DefaultEnv();
    ctx.sys_root = kFixtures + "/gpu/" + fixture + "/sys";
    ctx.proc_root = kFixtures + "/gpu/" + fixture + "/proc";
    for (const OptionSpec& o : FindMeter("gpu.devices")->options) ctx.options.Set(o.key, o.default_value);
    ctx.options.Set("nvml_library", "/nonexistent/libnvidia-ml.so.1");
    GpuDevicesMeter meter;
    MeterResult r = meter.Measure(ctx);
    EXPECT_EQ(ExplainClaims("gpu.devices", r.claims), "") << fixture;
  }
}

TEST(declared_claims_test, disk_and_net_claim_builders_emit_only_declared_claims) {
  // Every workload disk.io can plan, with and without latency samples.
  Options o;
  for (const OptionSpec& spec : FindMeter("disk.io")->options) o.Set(spec.key, spec.default_value);
  auto plan = PlanDiskWorkloads(o, DiskTargetShape{1 << 30, false, 4096});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  nlohmann::json claims = nlohmann::json::object();
  for (const DiskWorkload& w : plan->workloads) {
    IoJobStats stats;
    stats.ios = 10;
    stats.latency_ns.Record(1000);
    AddDiskWorkloadClaims(w, stats, &claims);
  }
  EXPECT_EQ(claims.size(), plan->workloads.size() * 11);  // 10 numbers and the histogram
  EXPECT_TRUE(claims.contains("rand_read_qd32_latency_p99_seconds"));
  EXPECT_TRUE(claims.contains("fsync_latency_p99_seconds"));
  EXPECT_EQ(ExplainClaims("disk.io", claims), "");

  // A net meter with one target that worked and one that failed.
  MeterContext ctx;
  ctx.env = DefaultEnv();
  ctx.options.Set("targets", nlohmann::json::array({"192.0.2.1:10218", "192.0.2.2:10218"}));
  ctx.options.Set("io_timeout_seconds", 1.0);
  MeterResult r = RunNetTargets(ctx, "meters.net.latency.targets", nlohmann::json::object(),
                                [](const NetTargetOptions& t) -> Result<TargetReport> {
                                  if (t.target == "192.0.2.2:10218") return Status::IOError("refused");
                                  TargetReport rep;
                                  SetClaim(rep.claims, kNetRttP99, 0.001);
                                  SignedExchange ex;
                                  ex.peer_thumbprint = "kid";
                                  ex.peer_jwk = nlohmann::json::object();
                                  ex.peer_jws = "a.b.c";
                                  AddExchangeClaims(ex, &rep);
                                  return rep;
                                });
  EXPECT_EQ(ExplainClaims("net.latency", r.claims), "");
  r.claims["targets"][0]["rtt_p99_secs"] = 1;
  EXPECT_NE(ExplainClaims("net.latency", r.claims).find("undeclared claim targets[].rtt_p99_secs"),
            std::string::npos);
}

// The acceptance of issue #18: a claim renamed in a meter, without its
// declaration, fails naming the new key, the declared one and its readers.
TEST(declared_claims_test, a_renamed_claim_fails_naming_the_claim_and_its_readers) {
  CpuTopologyMeter topology;
  MeterResult t = RunOnMachine(topology, "numa_2socket");
  ASSERT_EQ(t.status, MeterStatus::kOk) << t.reason;
  ASSERT_EQ(ExplainClaims("cpu.topology", t.claims), "");
  nlohmann::json renamed = t.claims;
  renamed["vcpu_count"] = renamed["vcpus"];
  renamed.erase("vcpus");
  const std::string why = ExplainClaims("cpu.topology", renamed);
  for (const char* part : {"undeclared claim vcpu_count", "cpu.topology vcpus", "policy cpu.vcpus",
                           "metric resmeter_cpu_topology_vcpus"})
    EXPECT_NE(why.find(part), std::string::npos) << part << " not in: " << why;
  // The bill's inputs are named too.
  nlohmann::json memory = {{"mem_total", 1024}};
  const std::string mem_why = ExplainClaims("memory.capacity", memory);
  EXPECT_NE(mem_why.find("usage accountant"), std::string::npos) << mem_why;
  // A type change is caught as well.
  renamed = t.claims;
  renamed["vcpus"] = "16";
  EXPECT_NE(ExplainClaims("cpu.topology", renamed).find("claim vcpus is string, declared integer"),
            std::string::npos);
}

// README.md embeds the generated tables; a renamed, added or removed claim
// must be reflected there (`resmeter claims` prints them).
TEST(declared_claims_test, readme_tables_are_the_generated_ones) {
  std::ifstream in(std::string(RESMETER_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "README.md";
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string readme = buf.str();
  for (const auto& [section, generated] :
       {std::pair{std::string("meter claims"), RenderMeterClaimTable()},
        std::pair{std::string("policy claims"), RenderPolicyClaimTable()}}) {
    const std::string documented = GeneratedSection(readme, section);
    ASSERT_FALSE(documented.empty()) << "README.md lacks the generated section '" << section << "'";
    if (documented == generated) continue;
    // Name each row that differs, with the claim's readers.
    std::set<std::string> doc_rows, gen_rows;
    std::stringstream d(documented), g(generated);
    for (std::string line; std::getline(d, line);) doc_rows.insert(line);
    for (std::string line; std::getline(g, line);) gen_rows.insert(line);
    std::string report;
    for (const std::string& row : gen_rows) {
      if (doc_rows.count(row)) continue;
      report += "\n  declared, not in README: " + row;
      for (const MeterInfo& m : MeterRegistry())
        for (const ClaimSpec* s : m.claims)
          if (row.find("| `" + m.name + "` | `") == 0 &&
              row.find(std::string(s->meaning)) != std::string::npos)
            report += "\n    -> " + DescribeClaim(*s);
    }
    for (const std::string& row : doc_rows)
      if (!gen_rows.count(row)) report += "\n  in README, not declared (renamed or removed?): " + row;
    ADD_FAILURE() << "README.md section '" << section
                  << "' differs from the declarations; paste `resmeter claims` output:" << report;
  }
}

}  // namespace
}  // namespace resmeter
