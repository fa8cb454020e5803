#include "swtpm_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

namespace resmeter::testing {
namespace {

// A port pair (P, P+1) that is free on loopback right now.
int FreePortPair() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    int port = ntohs(addr.sin_port);
    if (port == 0 || port >= 65535) continue;
    int fd2 = ::socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_port = htons(static_cast<uint16_t>(port + 1));
    bool ok = ::bind(fd2, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd2);
    if (ok) return port;
  }
  return 0;
}

// True when a TCP connect to 127.0.0.1:port succeeds.
bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

SwtpmProcess::~SwtpmProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  if (!state_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(state_dir_, ec);
  }
}

bool SwtpmProcess::Start(std::string* why) {
  if (::access("/usr/bin/swtpm", X_OK) != 0) {
    *why = "swtpm is not installed (/usr/bin/swtpm)";
    return false;
  }
  char tmpl[] = "/tmp/resmeter-swtpm-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    *why = "mkdtemp failed";
    return false;
  }
  state_dir_ = tmpl;
  for (int attempt = 0; attempt < 3 && pid_ < 0; ++attempt) {
    port_ = FreePortPair();
    if (port_ == 0) continue;
    std::string server = "type=tcp,port=" + std::to_string(port_) + ",bindaddr=127.0.0.1";
    std::string ctrl = "type=tcp,port=" + std::to_string(port_ + 1) + ",bindaddr=127.0.0.1";
    std::string state = "dir=" + state_dir_;
    std::vector<std::string> args = {"swtpm",  "socket",  "--tpm2", "--server", server, "--ctrl", ctrl,
                                     "--flags", "not-need-init,startup-clear", "--tpmstate", state};
    pid_t pid = ::fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv("/usr/bin/swtpm", argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    // Up to 10 s for swtpm to listen: generous for a loaded 2-core machine.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!Accepts(port_)) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_ || std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (pid_ < 0) *why = "swtpm did not start listening on loopback";
  return pid_ > 0;
}

std::string SwtpmProcess::Tcti() const { return "swtpm:host=127.0.0.1,port=" + std::to_string(port_); }

}  // namespace resmeter::testing
