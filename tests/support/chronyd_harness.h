// Test harness for real chronyd processes on loopback: a private 0700
// directory, a self-signed certificate for NTS, free ports, and a chronyd
// process that is always killed (SIGTERM, then SIGKILL) when the object goes
// away, also when a test fails; children also die with the test process
// (PR_SET_PDEATHSIG).
//
// Header-only; thread-compatible.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace resmeter::testing {

inline constexpr const char* kChronydPath = "/usr/sbin/chronyd";

// A temporary directory of mode 0700, removed with its content.
class PrivateDir {
 public:
  PrivateDir() {
    char tmpl[] = "/tmp/resmeter-chrony-XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    path_ = p ? p : "";
    if (p) ::chmod(p, 0700);
  }
  ~PrivateDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A port on 127.0.0.1 that was free a moment ago (type SOCK_DGRAM or SOCK_STREAM).
inline int FreeLoopbackPort(int type) {
  int fd = ::socket(AF_INET, type, 0);
  if (fd < 0) return 0;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  socklen_t len = sizeof sa;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
    port = ntohs(sa.sin_port);
  }
  ::close(fd);
  return port;
}

// Writes a text file.
inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::trunc) << text;
}

// Creates a self-signed EC certificate for IP 127.0.0.1 with openssl; true on success.
inline bool MakeSelfSignedCert(const std::string& key, const std::string& cert) {
  std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
      " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '" +
      key + "' -out '" + cert + "' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// One chronyd process (foreground, -x: never touches the system clock,
// -u root: no privilege drop, so it can read the test's 0700 directory).
class Chronyd {
 public:
  Chronyd() = default;
  ~Chronyd() { Stop(); }
  Chronyd(const Chronyd&) = delete;
  Chronyd& operator=(const Chronyd&) = delete;

  // Starts chronyd with `config`; its output goes to `log`. False if fork failed.
  bool Start(const std::string& config, const std::string& log) {
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execl(kChronydPath, "chronyd", "-x", "-u", "root", "-d", "-f", config.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pid_ = pid;
    return true;
  }

  // Waits (bounded) for a path, e.g. the command socket, to appear.
  bool WaitForPath(const std::string& path, double seconds) const {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (std::filesystem::exists(path)) return true;
      if (!Running()) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // True while the process has not exited.
  bool Running() const {
    if (pid_ <= 0) return false;
    int st = 0;
    return ::waitpid(pid_, &st, WNOHANG) == 0;
  }

  // Terminates chronyd: SIGTERM, up to 3 s, then SIGKILL; always reaps it.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    int st = 0;
    while (::waitpid(pid_, &st, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

}  // namespace resmeter::testing
