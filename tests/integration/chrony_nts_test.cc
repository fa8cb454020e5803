// Trusted time against real chronyd processes on loopback, as chrony's own
// test suite sets them up: a server with `local stratum 1` and a test-made
// self-signed certificate (ntsserverkey/ntsservercert), and a client with
// `server 127.0.0.1 port P nts ntsport K` and `ntstrustedcerts`. Both run
// with -x (the system clock is never touched), -u root, their own ports, pid
// files and command sockets in a 0700 directory; every chronyd is killed when
// its test ends, passed or failed.
//
// Set RESMETER_RECORD_CHRONY_FIXTURES=DIR to record the request/reply bytes
// used by the unit tests (tests/fixtures/chrony/).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "support/chrony_pair.h"
#include "timesource/chrony_client.h"
#include "timesource/time_assessment.h"
#include "timesource/time_meter.h"

namespace resmeter {
namespace {

using testing::ChronyPair;
using testing::PrivateDir;

TEST_F(ChronyPair, nts_source_gives_trusted_time_at_stratum_2) {
  StartClient(/*nts=*/true);
  auto [a, took] = WaitFor([](const TimeAssessment& x) { return x.trusted; });
  nlohmann::json j = TimeAssessmentToJson(a);
  std::printf("NTS client: trusted after %.2f s: %s\n", took, j.dump().c_str());
  RecordProperty("sync_seconds", std::to_string(took));
  ASSERT_TRUE(a.trusted) << j.dump() << "\n" << Log("client.log") << Log("server.log");
  EXPECT_TRUE(a.synchronized);
  EXPECT_TRUE(a.nts_authenticated);
  EXPECT_EQ(a.authentication, "nts");
  EXPECT_EQ(a.stratum, 2);
  EXPECT_EQ(a.server, "127.0.0.1");
  EXPECT_EQ(a.leap_status, "normal");
  ASSERT_TRUE(a.error_bound_seconds.has_value());
  // At the first trusted sample the root dispersion of a fresh sync can be
  // tens of ms; it must be inside the trust limit (100 ms), and "small" is
  // checked on the settled sample below.
  EXPECT_LT(*a.error_bound_seconds, 0.1);
  EXPECT_GE(*a.error_bound_seconds, std::fabs(*a.offset_seconds) + *a.root_dispersion_seconds);
  EXPECT_FALSE(j.contains("reason"));
  EXPECT_EQ(j["nts"]["cookies"].get<int>() > 0, true) << j.dump();
  RecordProperty("error_bound_seconds", std::to_string(*a.error_bound_seconds));

  // Let the error bound settle a little more, then measure it again.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  TimeAssessment later = AssessTime(Options("client.sock"), DefaultEnv());
  std::printf("NTS client 2 s later: error bound %.9f s, offset %.9f s\n",
              later.error_bound_seconds.value_or(-1), later.offset_seconds.value_or(0));
  EXPECT_TRUE(later.trusted) << later.reason;
  // Loopback gives microseconds once settled; 10 ms still proves "small" on a loaded machine.
  ASSERT_TRUE(later.error_bound_seconds.has_value());
  EXPECT_LT(*later.error_bound_seconds, 0.01);

  // A limit below the measured bound makes the same state untrusted.
  TimeSourceOptions strict = Options("client.sock");
  strict.max_error_bound_seconds = 1e-12;
  TimeAssessment s = AssessTime(strict, DefaultEnv());
  EXPECT_FALSE(s.trusted);
  EXPECT_NE(s.reason.find("error bound"), std::string::npos) << s.reason;

  // The time meter names the source (chronyd's REQ_NTP_SOURCE_NAME) and the
  // certificate its NTS-KE server presents to resmeter's own handshake.
  {
    MeterContext ctx;
    ctx.env = DefaultEnv();
    ctx.global.Set("time.chrony_socket", std::string(dir_ / "client.sock"));
    ctx.global.Set("time.nts_ke_port", static_cast<int64_t>(nts_port_));
    ctx.global.Set("time.nts_ca_file", std::string(dir_ / "cert.pem"));
    TimeMeter meter;
    MeterResult r = meter.Measure(ctx);
    std::printf("time meter NTS claims: server_name %s, nts_certificate %s\n",
                r.claims.value("server_name", std::string("?")).c_str(),
                r.claims.value("nts_certificate", nlohmann::json()).dump().c_str());
    EXPECT_EQ(r.claims.value("server_name", std::string()), "127.0.0.1") << r.conditions.dump();
    ASSERT_TRUE(r.claims.contains("nts_certificate")) << r.conditions.dump();
    EXPECT_EQ(r.claims["nts_certificate"]["subject"], "CN=127.0.0.1");
    EXPECT_EQ(r.claims["nts_certificate"]["verified"], true) << r.claims["nts_certificate"].dump();
    // Another NTS-KE port (nothing there): no certificate, and the condition says why.
    ctx.global.Set("time.nts_ke_port", static_cast<int64_t>(ntp_port_));
    TimeMeter other;
    r = other.Measure(ctx);
    EXPECT_FALSE(r.claims.contains("nts_certificate"));
    EXPECT_NE(r.conditions.value("nts_certificate", std::string()).find("NTS-KE handshake"),
              std::string::npos)
        << r.conditions.dump();
  }

  // The server itself serves its local clock: synchronised, but not to a source.
  TimeAssessment srv = AssessTime(Options("server.sock"), DefaultEnv());
  EXPECT_TRUE(srv.reachable);
  EXPECT_FALSE(srv.trusted);
  EXPECT_EQ(srv.stratum, 1);
  EXPECT_NE(srv.reason.find("local"), std::string::npos) << srv.reason;

  MaybeRecord("client.sock", "nts");
  MaybeRecord("server.sock", "local");
}

TEST_F(ChronyPair, plain_ntp_source_is_untrusted_with_reason) {
  StartClient(/*nts=*/false);
  auto [a, took] = WaitFor([](const TimeAssessment& x) { return x.synchronized; });
  nlohmann::json j = TimeAssessmentToJson(a);
  std::printf("plain client: synchronised after %.2f s: %s\n", took, j.dump().c_str());
  ASSERT_TRUE(a.synchronized) << j.dump() << "\n" << Log("client.log");
  EXPECT_FALSE(a.trusted);
  EXPECT_FALSE(a.nts_authenticated);
  EXPECT_EQ(a.authentication, "none");
  EXPECT_EQ(a.stratum, 2);
  EXPECT_NE(a.reason.find("not NTS-authenticated"), std::string::npos) << a.reason;
  EXPECT_EQ(j["reason"], a.reason);
  MaybeRecord("client.sock", "plain");
}

TEST_F(ChronyPair, unsynchronised_client_is_untrusted) {
  // A client whose server never answers stays unsynchronised.
  int dead_port = testing::FreeLoopbackPort(SOCK_DGRAM);
  ntp_port_ = dead_port;
  StartClient(/*nts=*/false);
  TimeAssessment a = AssessTime(Options("client.sock"), DefaultEnv());
  EXPECT_TRUE(a.reachable);
  EXPECT_FALSE(a.synchronized);
  EXPECT_FALSE(a.trusted);
  EXPECT_FALSE(a.error_bound_seconds.has_value());
  EXPECT_NE(a.reason.find("not synchronised"), std::string::npos) << a.reason;
  MaybeRecord("client.sock", "unsynchronised");
}

TEST(ChronySocket, no_chronyd_is_not_reachable_without_waiting) {
  PrivateDir dir;
  TimeSourceOptions o;
  o.chrony_socket = dir / "chronyd.sock";
  auto start = std::chrono::steady_clock::now();
  nlohmann::json j = AssessTimeClaim(o);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(j["trusted"], false);
  EXPECT_EQ(j["chronyd_state"], "absent");
  EXPECT_EQ(j["reason"].get<std::string>().rfind("chronyd not reachable", 0), 0u) << j.dump();
  EXPECT_FALSE(j.contains("error_bound_seconds"));
  EXPECT_LT(took, 1.0);
}

TEST(ChronySocket, stale_socket_file_is_not_reachable) {
  PrivateDir dir;
  std::string path = dir / "chronyd.sock";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ::close(fd);  // the file stays, nobody listens
  TimeSourceOptions o;
  o.chrony_socket = path;
  TimeAssessment a = AssessTime(o, DefaultEnv());
  EXPECT_EQ(a.chrony_state, "absent");
  EXPECT_NE(a.reason.find("nothing listens"), std::string::npos) << a.reason;
}

TEST(ChronySocket, silent_daemon_is_busy_after_bounded_retries) {
  PrivateDir dir;
  std::string path = dir / "chronyd.sock";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);  // bound, never answers
  TimeSourceOptions o;
  o.chrony_socket = path;
  o.timeout_seconds = 0.1;
  o.attempts = 3;
  auto start = std::chrono::steady_clock::now();
  TimeAssessment a = AssessTime(o, DefaultEnv());
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ::close(fd);
  EXPECT_EQ(a.chrony_state, "busy");
  EXPECT_EQ(a.reason.rfind("chronyd busy", 0), 0u) << a.reason;
  EXPECT_GE(took, 0.29);  // three attempts of 0.1 s
  EXPECT_LT(took, 5.0);   // and then it stops; generous for a loaded machine
}

TEST(ChronySocket, unprivileged_user_gets_access_refused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to an unprivileged user";
  PrivateDir dir;  // 0700, owned by root
  std::string path = dir / "chronyd.sock";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  std::string out = dir / "state";
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    TimeSourceOptions o;
    o.chrony_socket = path;
    o.client_socket_dir = "/tmp";
    TimeAssessment a = AssessTime(o, DefaultEnv());
    ::_exit(a.chrony_state == "access_refused" && a.reason.rfind("access to chronyd refused", 0) == 0 ? 0
                                                                                                      : 1);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  ::close(fd);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "1: wrong state, 3: could not drop privileges";
}

}  // namespace
}  // namespace resmeter
