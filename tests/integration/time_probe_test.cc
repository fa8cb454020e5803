// End to end: `resmeter probe` puts the chronyd time assessment into the
// signed report's `time` claim, and `resmeter verify` shows it; with no
// chronyd the probe still succeeds and the claim says why time is untrusted.
// For the NTS source the claim names the source and the certificate its
// NTS-KE server presented, and a policy pins that certificate's subject.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "support/chrony_pair.h"
#include "support/shell_command.h"

namespace resmeter {
namespace {

using testing::ChronyPair;
using testing::PrivateDir;

struct Ran {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command line, capturing its output.
Ran Run(const std::string& cmd) {
  Ran r;
  r.exit_code = RunShellCommand(cmd + " 2>&1", &r.out);
  return r;
}

// Signs a report with only the time meter, using `socket` as chronyd, and
// returns the verified claims (and verify's table in *table).
nlohmann::json ProbeAndVerify(const PrivateDir& state, const std::string& socket, std::string* table,
                              const std::string& more_time_yaml = "") {
  const std::string bin = RESMETER_BINARY;
  // One setting serves both the report's `time` claim and the time meter.
  testing::WriteText(state / "resmeter.yaml", "time:\n  chrony_socket: " + socket + "\n" + more_time_yaml);
  const std::string common = bin + " --state-dir " + state.path() + " --config " + (state / "resmeter.yaml");
  // The probe's key is ephemeral: its public JWK comes with --identity-out.
  Ran probe = Run(common + " probe --only time -o " + (state / "report.jws") + " --identity-out " +
                  (state / "id.json"));
  EXPECT_EQ(probe.exit_code, 0) << probe.out;
  Ran show = Run("jq .jwk " + (state / "id.json") + " > " + (state / "key.jwk"));
  EXPECT_EQ(show.exit_code, 0) << show.out;
  Ran text = Run(bin + " verify " + (state / "report.jws") + " --key " + (state / "key.jwk") +
                 " --allow-dev-evidence");
  // ACCEPTED, or REJECTED only because the key came from a file (key_origin).
  const bool file_key_only =
      text.out.find("\nREJECTED: key_origin: 'file' is not accepted (accepted: ephemeral)\n") !=
      std::string::npos;
  EXPECT_TRUE(text.exit_code == 0 || (text.exit_code == 1 && file_key_only)) << text.out;
  *table = text.out;
  Ran json = Run(bin + " verify --json " + (state / "report.jws") + " --key " + (state / "key.jwk") +
                 " --allow-dev-evidence 2>/dev/null");
  nlohmann::json j = nlohmann::json::parse(json.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << json.out;
  return j.is_discarded() ? nlohmann::json::object() : j["claims"];
}

TEST_F(ChronyPair, probe_signs_trusted_nts_time_and_verify_shows_it) {
  StartClient(/*nts=*/true);
  auto [a, took] = WaitFor([](const TimeAssessment& x) { return x.trusted; });
  ASSERT_TRUE(a.trusted) << a.reason << Log("client.log");
  PrivateDir state;
  std::string table;
  // The NTS-KE server of this pair listens on its own port, with a test-made certificate.
  nlohmann::json claims = ProbeAndVerify(
      state, dir_ / "client.sock", &table,
      "  nts_ke_port: " + std::to_string(nts_port_) + "\n  nts_ca_file: " + (dir_ / "cert.pem") + "\n");
  const nlohmann::json& t = claims["time"];
  EXPECT_EQ(t["trusted"], true) << t.dump();
  EXPECT_EQ(t.value("server_name", std::string()), "127.0.0.1") << t.dump();
  ASSERT_TRUE(t.contains("nts_certificate")) << claims["submods"]["time"].dump();
  EXPECT_EQ(t["nts_certificate"]["subject"], "CN=127.0.0.1");
  EXPECT_EQ(t["nts_certificate"]["verified"], true);
  // A policy pins the certificate: this server's subject passes, another's fails.
  for (const auto& [pin, passes] :
       {std::pair{"\"127.0.0.1\"", true}, std::pair{"time.cloudflare.com", false}}) {
    testing::WriteText(state / "policy.yaml",
                       std::string("time: {nts_certificate_subjects: [") + pin + "]}\n");
    Ran v = resmeter::Run(std::string(RESMETER_BINARY) + " verify --json " + (state / "report.jws") +
                          " --allow-dev-evidence --policy " + (state / "policy.yaml") + " 2>/dev/null");
    nlohmann::json j = nlohmann::json::parse(v.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << v.out;
    bool found = false;
    for (const auto& c : j["checks"]) {
      if (c.value("name", "") != "policy.time.nts_certificate") continue;
      found = true;
      EXPECT_EQ(c.value("outcome", ""), passes ? "passed" : "failed") << c.dump();
    }
    EXPECT_TRUE(found) << j["checks"].dump();
  }
  EXPECT_EQ(t["nts_authenticated"], true);
  EXPECT_EQ(t["stratum"], 2);
  EXPECT_EQ(t["server"], "127.0.0.1");
  EXPECT_LT(t["error_bound_seconds"].get<double>(), 0.01);
  EXPECT_EQ(claims["submods"]["time"]["status"], "ok");
  EXPECT_EQ(claims["submods"]["time"]["claims"]["trusted"], true);
  EXPECT_NE(table.find("time      trusted (chrony: NTS server 127.0.0.1, stratum 2, leap normal)"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("error bound "), std::string::npos) << table;
  std::printf("%s", table.c_str());
}

TEST_F(ChronyPair, probe_with_plain_ntp_signs_untrusted_time_with_reason) {
  StartClient(/*nts=*/false);
  auto [a, took] = WaitFor([](const TimeAssessment& x) { return x.synchronized; });
  ASSERT_TRUE(a.synchronized) << Log("client.log");
  PrivateDir state;
  std::string table;
  nlohmann::json claims = ProbeAndVerify(state, dir_ / "client.sock", &table);
  EXPECT_EQ(claims["time"]["trusted"], false);
  EXPECT_NE(claims["time"]["reason"].get<std::string>().find("not NTS-authenticated"), std::string::npos);
  EXPECT_NE(table.find("reason: selected source 127.0.0.1 is not NTS-authenticated"), std::string::npos)
      << table;
}

TEST(TimeProbe, without_chronyd_probe_succeeds_and_time_is_untrusted) {
  PrivateDir state;
  std::string table;
  nlohmann::json claims = ProbeAndVerify(state, state / "chronyd.sock", &table);
  const nlohmann::json& t = claims["time"];
  EXPECT_EQ(t["trusted"], false);
  EXPECT_EQ(t["reason"].get<std::string>().rfind("chronyd not reachable", 0), 0u) << t.dump();
  EXPECT_EQ(claims["submods"]["time"]["status"], "unavailable");
  EXPECT_NE(table.find("reason: chronyd not reachable"), std::string::npos) << table;
}

}  // namespace
}  // namespace resmeter
