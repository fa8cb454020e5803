// net.throughput across two network namespaces joined by a veth pair shaped
// with tbf to 100 Mbit/s in both directions: the measured rate must be within
// 10% of the shaped rate and both signatures must verify. Needs root (skips
// with the reason otherwise); the namespaces are always deleted.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "peer/net_peer_server.h"
#include "policy/net_cosign.h"
#include "jose/signing_key.h"
#include "support/net_test_support.h"

namespace resmeter {
namespace {

constexpr double kShapedBps = 100e6;

// Two namespaces "<prefix>a" and "<prefix>b", 10.77.0.1 <-> 10.77.0.2 over a
// veth pair with tbf on both ends. Deleted by the destructor, whatever happened.
class NetnsPair {
 public:
  NetnsPair() : prefix_("rmt" + std::to_string(::getpid()) + "-") {
    // Namespaces left by an earlier run that crashed (its pid is gone).
    Sh("for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^rmt[0-9]+-[ab]$'); do "
       "p=${n#rmt}; p=${p%-*}; [ -d /proc/$p ] || ip netns del $n; done");
  }
  ~NetnsPair() {
    Sh("ip netns del " + a() + " 2>/dev/null");
    Sh("ip netns del " + b() + " 2>/dev/null");
  }
  std::string a() const { return prefix_ + "a"; }
  std::string b() const { return prefix_ + "b"; }

  // Creates everything; returns the first command that failed, or "".
  std::string Create() {
    const std::string va = "rmva" + std::to_string(::getpid() % 100000), vb = "rmvb" + std::to_string(::getpid() % 100000);
    const std::string tbf = " root tbf rate 100mbit burst 64kb latency 50ms";
    for (const std::string& cmd : {
             "ip netns add " + a(), "ip netns add " + b(),
             "ip link add " + va + " netns " + a() + " type veth peer name " + vb + " netns " + b(),
             "ip -n " + a() + " addr add 10.77.0.1/24 dev " + va, "ip -n " + b() + " addr add 10.77.0.2/24 dev " + vb,
             "ip -n " + a() + " link set lo up", "ip -n " + b() + " link set lo up",
             "ip -n " + a() + " link set " + va + " up", "ip -n " + b() + " link set " + vb + " up",
             "tc -n " + a() + " qdisc add dev " + va + tbf, "tc -n " + b() + " qdisc add dev " + vb + tbf}) {
      if (!Sh(cmd)) return cmd;
    }
    return "";
  }

  // Moves the calling thread into namespace `name`.
  static bool Enter(const std::string& name) {
    int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::setns(fd, CLONE_NEWNET) == 0;
    ::close(fd);
    return ok;
  }

 private:
  static bool Sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }
  std::string prefix_;
};

TEST(net_netns_test, shaped_link_is_measured_within_ten_percent_and_cosigned) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces (running as uid " << ::geteuid() << ")";
  if (std::system("command -v ip >/dev/null && command -v tc >/dev/null") != 0) {
    GTEST_SKIP() << "needs iproute2 (ip, tc)";
  }
  NetnsPair ns;
  const std::string failed = ns.Create();
  ASSERT_EQ(failed, "") << "namespace setup failed at: " << failed;

  auto agent = *SigningKey::Generate("EdDSA");
  auto peer_key = *SigningKey::Generate("EdDSA");
  PeerServerOptions o;
  o.listen = "10.77.0.2:5301";
  PeerServer server(o, peer_key.get());
  Status started = Status::Cancelled("not run");
  // Sockets belong to the namespace of the thread that creates them.
  std::thread([&] { started = NetnsPair::Enter(ns.b()) ? server.Start() : Status::IOError("setns " + ns.b()); }).join();
  ASSERT_TRUE(started.ok()) << started.ToString();

  MeterRun run, latency;
  bool entered = false;
  std::thread([&] {
    entered = NetnsPair::Enter(ns.a());
    if (!entered) return;
    // 4 streams, 0.5 s warm-up, 2 s window per direction: about 6 s in all.
    run = testing::RunNetMeter("net.throughput", {{"targets", {"10.77.0.2:5301"}}, {"streams", 4},
                                                  {"duration_seconds", 2.0}, {"omit_seconds", 0.5}},
                               agent.get(), 60);
    latency = testing::RunNetMeter("net.latency", {{"targets", {"10.77.0.2:5301"}}, {"count", 20}}, agent.get(), 30);
  }).join();
  server.Stop();
  ASSERT_TRUE(entered) << "setns " << ns.a();

  ASSERT_EQ(run.result.status, MeterStatus::kOk) << run.result.reason;
  const auto& t = run.result.claims["targets"][0];
  for (const char* phase : {"upload", "download"}) {
    const double bps = t[std::string(phase) + "_bps"].get<double>();
    std::printf("    %s: %.2f Mbit/s over a %.0f Mbit/s tbf link (ratio %.3f)\n", phase, bps / 1e6, kShapedBps / 1e6,
                bps / kShapedBps);
    EXPECT_NEAR(bps / kShapedBps, 1.0, 0.10) << phase;
  }
  auto summary = VerifyNetCosignature(t, agent->public_key());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ((*summary)["peer"]["address"], "10.77.0.2:5301");

  ASSERT_EQ(latency.result.status, MeterStatus::kOk) << latency.result.reason;
  const auto& l = latency.result.claims["targets"][0];
  std::printf("    rtt p50 %.1f us, p99 %.1f us\n", l["rtt_p50_seconds"].get<double>() * 1e6,
              l["rtt_p99_seconds"].get<double>() * 1e6);
  EXPECT_TRUE(VerifyNetCosignature(l, agent->public_key()).ok());
}

}  // namespace
}  // namespace resmeter
