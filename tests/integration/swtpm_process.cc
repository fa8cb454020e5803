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
#include <fstream>
#include <sstream>
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

bool SwtpmProcess::MakeStateDir(std::string* why) {
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
  return true;
}

bool SwtpmProcess::Start(std::string* why) { return MakeStateDir(why) && Launch(why); }

bool SwtpmProcess::StartManufactured(const std::string& ek_ca_key_pem, const std::string& ek_ca_cert_pem,
                                     std::string* why) {
  if (::access("/usr/bin/swtpm_setup", X_OK) != 0 || ::access("/usr/bin/swtpm_localca", X_OK) != 0) {
    *why = "swtpm_setup/swtpm_localca are not installed (swtpm-tools)";
    return false;
  }
  if (!MakeStateDir(why)) return false;
  const std::string setup = state_dir_ + "/setup";
  std::filesystem::create_directories(setup);
  std::ofstream(setup + "/ekca.key") << ek_ca_key_pem;
  std::ofstream(setup + "/ekca.pem") << ek_ca_cert_pem;
  // swtpm_localca signs with an existing key+certificate instead of making its own CA.
  std::ofstream(setup + "/localca.conf")
      << "statedir = " << setup << "\nsigningkey = " << setup << "/ekca.key\nissuercert = " << setup
      << "/ekca.pem\ncertserial = " << setup << "/certserial\n";
  std::ofstream(setup + "/localca.options") << "";
  std::ofstream(setup + "/swtpm_setup.conf")
      << "create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = " << setup
      << "/localca.conf\ncreate_certs_tool_options = " << setup
      << "/localca.options\nactive_pcr_banks = sha256\n";
  const std::string cmd = "/usr/bin/swtpm_setup --tpm2 --tpmstate " + state_dir_ +
                          " --create-ek-cert --config " + setup + "/swtpm_setup.conf --overwrite >" + setup +
                          "/swtpm_setup.log 2>&1";
  int rc = std::system(cmd.c_str());
  if (rc != 0) {
    std::ifstream log(setup + "/swtpm_setup.log");
    std::stringstream ss;
    ss << log.rdbuf();
    *why = "swtpm_setup failed (" + cmd + "): " + ss.str();
    return false;
  }
  return Launch(why);
}

bool SwtpmProcess::Launch(std::string* why) {
  for (int attempt = 0; attempt < 3 && pid_ < 0; ++attempt) {
    port_ = FreePortPair();
    if (port_ == 0) continue;
    std::string server = "type=tcp,port=" + std::to_string(port_) + ",bindaddr=127.0.0.1";
    std::string ctrl = "type=tcp,port=" + std::to_string(port_ + 1) + ",bindaddr=127.0.0.1";
    std::string state = "dir=" + state_dir_;
    std::vector<std::string> args = {"swtpm",      "socket",  "--tpm2",
                                     "--server",   server,    "--ctrl",
                                     ctrl,         "--flags", "not-need-init,startup-clear",
                                     "--tpmstate", state};
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
