// The scheduler marks every run with why it ran and when it finished, in
// the signed report: SIGUSR1 (RequestHeavy) runs are "provider_signal", a
// buyer's on-demand heavy runs "buyer_nonce", and a nonce-bound report that
// reuses an older heavy run keeps that run's own trigger and measured_at.
// Only net.throughput (heavy) runs: with no peer configured it returns
// `unavailable` at once, which is enough to see the submod's stamps.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "agent/scheduler.h"
#include "core/base64url.h"
#include "core/strings.h"
#include "peer/net_protocol.h"
#include "support/temp_dir.h"
#include "test_env.h"

namespace resmeter {
namespace {

constexpr const char* kHeavy = "net.throughput";

struct Fixture {
  TempDir dir;
  FakeClockEnv env{100, 1.8e9};
  FILE* log_file = std::fopen("/dev/null", "w");
  Logger log{log_file};
  AgentState state{AgentIdentity{"kid", "EdDSA", "ueid", {{"kty", "OKP"}}, {{"type", "none"}}}, 1.8e9};
  std::shared_ptr<const SigningKey> key = *SigningKey::Generate("EdDSA");
  std::unique_ptr<Scheduler> scheduler;

  Fixture() {
    Config c = DefaultConfig();
    for (const MeterInfo& m : MeterRegistry()) c.meters[m.name].Set("enabled", m.name == kHeavy);
    c.global.Set("state_dir", dir.path());
    c.global.Set("evidence.backend", "none");
    c.global.Set("time.chrony_socket", dir.path() + "/no-chronyd.sock");
    c.global.Set("time.attempts", 1);
    c.global.Set("time.timeout_seconds", 0.01);
    c.global.Set("agent.heavy_interval_seconds", 0.0);  // only on demand: no scheduled run interferes
    Scheduler::Deps d;
    d.state = &state;
    d.log = &log;
    d.env = &env;
    d.key = key;
    scheduler = std::make_unique<Scheduler>(d, std::make_shared<const Config>(std::move(c)));
  }
  ~Fixture() {
    scheduler.reset();
    std::fclose(log_file);
  }
};

// The claims inside a JWS compact token (what was really signed).
nlohmann::json SignedClaims(const std::string& token) {
  auto payload = JwsCompactPayload(token);
  EXPECT_TRUE(payload.ok()) << payload.status().message();
  return nlohmann::json::parse(payload.ok() ? *payload : "{}");
}

TEST(scheduler_trigger_test, sigusr1_heavy_runs_are_marked_provider_signal_in_the_signed_report) {
  Fixture f;
  f.scheduler->Start();
  f.scheduler->RequestHeavy();  // what SIGUSR1 calls
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (f.state.HeavyCycles()[kTriggerProviderSignal] == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(f.state.HeavyCycles()[kTriggerProviderSignal], 1u);
  EXPECT_EQ(f.state.HeavyCycles()[kTriggerSchedule], 0u);
  f.scheduler->Stop();
  auto report = f.state.LatestReport();
  ASSERT_TRUE(report.has_value());
  const nlohmann::json sub = SignedClaims(report->token)["submods"][kHeavy];
  EXPECT_EQ(sub["trigger"], "provider_signal") << sub.dump();
  EXPECT_EQ(sub["measured_at"], 1.8e9) << "measured_at comes from the injected clock";
  EXPECT_FALSE(sub["conditions"].contains("measured_at_unix_seconds"));
}

TEST(scheduler_trigger_test, buyer_heavy_runs_are_fresh_and_reused_runs_keep_their_age) {
  Fixture f;
  ASSERT_TRUE(f.scheduler->RunHeavyCycle(kTriggerSchedule).ok());
  f.env.wall += 7200;  // two hours later

  // Without "heavy": the old run is signed again, its age visible.
  auto reused = f.scheduler->Attest("00112233445566778899aabbccddeeff", {}, 5);
  ASSERT_TRUE(reused.ok()) << reused.status().message();
  nlohmann::json claims = SignedClaims(reused->token);
  EXPECT_EQ(claims["eat_nonce"], reused->claims["eat_nonce"]);
  EXPECT_EQ(claims["submods"][kHeavy]["trigger"], "schedule");
  EXPECT_EQ(claims["submods"][kHeavy]["measured_at"], 1.8e9);

  // With "heavy": run anew after the nonce arrived.
  auto fresh = f.scheduler->Attest("ffeeddccbbaa99887766554433221100", {kHeavy}, 5);
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  claims = SignedClaims(fresh->token);
  EXPECT_EQ(claims["submods"][kHeavy]["trigger"], "buyer_nonce");
  EXPECT_EQ(claims["submods"][kHeavy]["measured_at"], 1.8e9 + 7200);
  EXPECT_EQ(f.state.HeavyCycles()[kTriggerBuyerNonce], 1u);
}

TEST(scheduler_trigger_test, on_demand_heavy_names_are_checked) {
  Fixture f;
  auto unknown = f.scheduler->Attest("00112233445566778899aabbccddeeff", {"disk.speed"}, 5);
  EXPECT_EQ(unknown.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "unknown meter 'disk.speed'");
  auto light = f.scheduler->Attest("00112233445566778899aabbccddeeff", {"cpu.time"}, 5);
  EXPECT_EQ(light.status().code(), Status::Code::kInvalidArgument);
  auto disabled = f.scheduler->Attest("00112233445566778899aabbccddeeff", {"disk.io"}, 5);
  EXPECT_EQ(disabled.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(disabled.status().message().find("meters.disk.io.enabled"), std::string::npos);
  EXPECT_EQ(f.state.HeavyCycles()[kTriggerBuyerNonce], 0u);
}

}  // namespace
}  // namespace resmeter
