// ChronyPair: a gtest fixture with a real chronyd NTS server on loopback and,
// on request, a client chronyd pointing at it (NTS or plain NTP). See
// chronyd_harness.h for how the processes are run and always killed.
//
// Set RESMETER_RECORD_CHRONY_FIXTURES=DIR to record the request/reply bytes
// used by the unit tests (tests/fixtures/chrony/).
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
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

namespace resmeter::testing {

// How long a client may take to synchronise and to bring its error bound
// under the limit. On an idle machine it takes about 1-3 s (first sample
// after the NTS-KE handshake, then 1/16 s polls); 40 s leaves room for a
// loaded machine shared with other builds.
constexpr double kSyncDeadlineSeconds = 40;

// A server chronyd and, optionally, a client chronyd pointing at it.
class ChronyPair : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kChronydPath)) GTEST_SKIP() << "chronyd is not installed";
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: chronyd -u root and sockets in a 0700 dir";
    ASSERT_FALSE(dir_.path().empty());
    ASSERT_TRUE(MakeSelfSignedCert(dir_ / "key.pem", dir_ / "cert.pem")) << "openssl failed";
    ntp_port_ = FreeLoopbackPort(SOCK_DGRAM);
    nts_port_ = FreeLoopbackPort(SOCK_STREAM);
    ASSERT_GT(ntp_port_, 0);
    ASSERT_GT(nts_port_, 0);
    WriteText(dir_ / "server.conf", "port " + std::to_string(ntp_port_) + "\nntsport " +
                                        std::to_string(nts_port_) + "\ncmdport 0\nbindcmdaddress " +
                                        (dir_ / "server.sock") + "\npidfile " + (dir_ / "server.pid") +
                                        "\nlocal stratum 1\nallow 127.0.0.1\nntsserverkey " +
                                        (dir_ / "key.pem") + "\nntsservercert " + (dir_ / "cert.pem") + "\n");
    ASSERT_TRUE(server_.Start(dir_ / "server.conf", dir_ / "server.log"));
    ASSERT_TRUE(server_.WaitForPath(dir_ / "server.sock", 10)) << Log("server.log");
  }

  // Starts the client; `nts` selects an NTS or a plain NTP source.
  void StartClient(bool nts) {
    std::string server_line =
        "server 127.0.0.1 port " + std::to_string(ntp_port_) + " iburst minpoll -4 maxpoll -4";
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

  std::string Log(const std::string& name) const { return "--- " + name + ":\n" + ReadBytes(dir_ / name); }

  // Records one QueryChrony conversation when RESMETER_RECORD_CHRONY_FIXTURES is set.
  void MaybeRecord(const std::string& sock, const std::string& name) {
    const char* root = std::getenv("RESMETER_RECORD_CHRONY_FIXTURES");
    if (!root || !*root) return;
    auto t = OpenUnixChronyTransport(dir_ / sock);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    std::filesystem::path out = std::filesystem::path(root) / name;
    std::filesystem::remove_all(out);
    ChronyClient client(std::make_unique<RecordingTransport>(std::move(t).value(), out), {});
    auto snap = QueryChrony(client);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    WriteBytes(out / "wall_time", std::to_string(DefaultEnv()->WallSeconds()) + "\n");
    std::printf("recorded %s into %s\n", name.c_str(), out.c_str());
  }

  PrivateDir dir_;
  int ntp_port_ = 0;
  int nts_port_ = 0;
  Chronyd server_;
  Chronyd client_;  // declared last: stopped first
};

}  // namespace resmeter::testing
