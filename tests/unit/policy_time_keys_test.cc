// Policy `time:` keys for the time axis and NTS pinning: parsing (bad values
// are one line naming the key) and the time.nts_server clause, which passes
// only for an NTS-authenticated selected source the policy lists.
#include <gtest/gtest.h>

#include "policy/policy.h"
#include "policy/policy_evaluator.h"

namespace resmeter {
namespace {

const Policy& NtsPolicy() {
  static const Policy p = *ParsePolicy("time: {nts_servers: [time.example.net, 192.0.2.10]}\n", "nts.yaml");
  return p;
}

// The clause `name` of a verdict (a copy: verdicts here are temporaries); name "" when absent.
ClauseResult Find(const PolicyVerdict& v, const std::string& name) {
  for (const auto& c : v.clauses) {
    if (c.name == name) return c;
  }
  return ClauseResult{};
}

PolicyVerdict Evaluate(const nlohmann::json& time) {
  return EvaluatePolicy(NtsPolicy(), nlohmann::json{{"time", time}}, EvidenceAppraisal{}, 1'800'000'000);
}

TEST(PolicyTimeKeys, ParsesTheTimeAxisKeys) {
  auto p = ParsePolicy(
      "time: {require_tsa: [freetsa, acme], max_unstamped_seconds: 7200, bracket_tolerance_seconds: 2.5}\n",
      "p.yaml");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->require_tsa, (std::vector<std::string>{"freetsa", "acme"}));
  EXPECT_EQ(p->max_unstamped_seconds, 7200);
  EXPECT_EQ(p->bracket_tolerance_seconds, 2.5);
  for (const char* bad :
       {"time: {require_tsa: []}\n", "time: {require_tsa: freetsa}\n", "time: {max_unstamped_seconds: -1}\n",
        "time: {nts_servers: [}\n", "time: {nts_server: [a]}\n"}) {
    auto r = ParsePolicy(bad, "bad.yaml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << r.status().message();
  }
}

TEST(PolicyTimeKeys, AListedNtsServerPasses) {
  const PolicyVerdict v =
      Evaluate({{"trusted", true}, {"server", "192.0.2.10"}, {"nts_authenticated", true}});
  const ClauseResult c = Find(v, "time.nts_server");
  ASSERT_EQ(c.name, "time.nts_server");
  EXPECT_TRUE(c.passed) << c.measured;
  // By name, when the claim gives one.
  EXPECT_TRUE(Find(Evaluate({{"server", "198.51.100.1"},
                             {"server_name", "time.example.net"},
                             {"nts_authenticated", true}}),
                   "time.nts_server")
                  .passed);
}

TEST(PolicyTimeKeys, AnNtsServerNotInThePolicyFailsTheClause) {
  ClauseResult c = Find(Evaluate({{"trusted", true}, {"server", "203.0.113.7"}, {"nts_authenticated", true}}),
                        "time.nts_server");
  ASSERT_EQ(c.name, "time.nts_server");
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.measured.find("203.0.113.7"), std::string::npos);
  // Listed, but not NTS-authenticated.
  c = Find(Evaluate({{"server", "192.0.2.10"}, {"nts_authenticated", false}}), "time.nts_server");
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.measured.find("not NTS"), std::string::npos);
  // No selected server (chronyd unreachable).
  c = Find(Evaluate({{"trusted", false}, {"reason", "chronyd not reachable"}}), "time.nts_server");
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.measured.find("unavailable"), std::string::npos);
}

}  // namespace
}  // namespace resmeter
