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

#include "support/chrony_conversation.h"
#include "support/chronyd_harness.h"
#include "timesource/chrony_client.h"
#include "timesource/time_assessment.h"

namespace resmeter {
namespace {

using testing::Chronyd;
using testing::PrivateDir;
using testing::WriteText;

// How long a client may take to synchronise and to bring its error bound
// under the limit. On an idle machine it takes about 1-3 s (first sample
// after the NTS-KE handshake, then 1/16 s polls); 40 s leaves room for a
// loaded machine shared with other builds.
constexpr double kSyncDeadlineSeconds = 40;

// A server chronyd and, optionally, a client chronyd pointing at it.
class ChronyPair : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(testing::kChronydPath)) GTEST_SKIP() << "chronyd is not installed";
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: chronyd -u root and sockets in a 0700 dir";
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_TRUE(testing::MakeSelfSignedCert(dir_ / "key.pem", dir_ / "cert.pem")) << "openssl failed";
    ntp_port_ = testing::FreeLoopbackPort(SOCK_DGRAM);
    nts_port_ = testing::FreeLoopbackPort(SOCK_STREAM);
    ASSERT_GT(ntp_port_, 0);
    ASSERT_GT(nts_port_, 0);
    WriteText(dir_ / "server.conf",
              "port " + std::to_string(ntp_port_) + "\nntsport " + std::to_string(nts_port_) +
                  "\ncmdport 0\nbindcmdaddress " + (dir_ / "server.sock") + "\npidfile " +
                  (dir_ / "server.pid") + "\nlocal stratum 1\nallow 127.0.0.1\nntsserverkey " +
                  (dir_ / "key.pem") + "\nntsservercert " + (dir_ / "cert.pem") + "\n");
    ASSERT_TRUE(server_.Start(dir_ / "server.conf", dir_ / "server.log"));
    ASSERT_TRUE(server_.WaitForPath(dir_ / "server.sock", 10)) << Log("server.log");
  }

  // Starts the client; `nts` selects an NTS or a plain NTP source.
  void StartClient(bool nts) {
    std::string server_line = "server 127.0.0.1 port " + std::to_string(ntp_port_) + " iburst minpoll -4 maxpoll -4";
    if (nts) server_line += " nts ntsport " + std::to_string(nts_port_);
    WriteText(dir_ / "client.conf", "port 0\ncmdport 0\nbindcmdaddress " + (dir_ / "client.sock") +
                                        "\npidfile " + (dir_ / "client.pid") + "\n" + server_line +
                                        "\nntstrustedcerts " + (dir_ / "cert.pem") + "\n");
    ASSERT_TRUE(client_.Start(dir_ / "client.conf", dir_ / "client.log"));
    ASSERT_TRUE(client_.WaitForPath(dir_ / "client.sock", 10)) << Log("client.log");
  }

  TimeSourceOptions Options(const std::string& sock) const {
    TimeSourceOptions o;
    o.chrony_socket = dir_ / sock;
    return o;
  }

  // Polls the client until `done` holds or the deadline passes; returns the
  // last assessment and the seconds it took.
  template <typename Pred>
  std::pair<TimeAssessment, double> WaitFor(Pred done) {
    auto start = std::chrono::steady_clock::now();
    TimeAssessment a;
    for (;;) {
      a = AssessTime(Options("client.sock"), DefaultEnv());
      double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (done(a) || took > kSyncDeadlineSeconds) return {a, took};
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  std::string Log(const std::string& name) const {
    return "--- " + name + ":\n" + testing::ReadBytes(dir_ / name);
  }

  // Records one QueryChrony conversation when RESMETER_RECORD_CHRONY_FIXTURES is set.
  void MaybeRecord(const std::string& sock, const std::string& name) {
    const char* root = std::getenv("RESMETER_RECORD_CHRONY_FIXTURES");
    if (!root || !*root) return;
    auto t = OpenUnixChronyTransport(dir_ / sock);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    std::filesystem::path out = std::filesystem::path(root) / name;
    std::filesystem::remove_all(out);
    ChronyClient client(std::make_unique<testing::RecordingTransport>(std::move(t).value(), out), {});
    auto snap = QueryChrony(client);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    testing::WriteBytes(out / "wall_time", std::to_string(DefaultEnv()->WallSeconds()) + "\n");
    std::printf("recorded %s into %s\n", name.c_str(), out.c_str());
  }

  PrivateDir dir_;
  int ntp_port_ = 0;
  int nts_port_ = 0;
  Chronyd server_;
  Chronyd client_;  // declared last: stopped first
};

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
  // Loopback gives microseconds; 10 ms still proves "small" on a loaded machine.
  EXPECT_LT(*a.error_bound_seconds, 0.01);
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

  // A limit below the measured bound makes the same state untrusted.
  TimeSourceOptions strict = Options("client.sock");
  strict.max_error_bound_seconds = 1e-12;
  TimeAssessment s = AssessTime(strict, DefaultEnv());
  EXPECT_FALSE(s.trusted);
  EXPECT_NE(s.reason.find("error bound"), std::string::npos) << s.reason;

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
    ::_exit(a.chrony_state == "access_refused" && a.reason.rfind("access to chronyd refused", 0) == 0 ? 0 : 1);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  ::close(fd);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "1: wrong state, 3: could not drop privileges";
}

}  // namespace
}  // namespace resmeter
