// Test support: a throw-away PostgreSQL 15 server for the collector's tests:
// initdb into a temporary directory, pg_ctl start listening only on a unix
// socket in that directory (no TCP), stopped (and removed) at the end.
// initdb refuses to run as root, so as root the cluster belongs to the
// `postgres` user (runuser); otherwise to the current user. Start() says why
// when it cannot (no binaries, no such user): the test skips with that reason.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/temp_dir.h"

namespace resmeter {

class PostgresServer {
 public:
  ~PostgresServer() { Stop(); }

  // Empty on success, else why it could not start.
  std::string Start() {
    const std::string bin = "/usr/lib/postgresql/15/bin";
    if (::access((bin + "/initdb").c_str(), X_OK) != 0)
      return "PostgreSQL 15 is not installed (" + bin + "/initdb; scripts/install-deps.sh test)";
    if (dir_.path().empty()) return "cannot create a temporary directory";
    std::string as_user;
    if (::geteuid() == 0) {
      if (std::system("id -u postgres >/dev/null 2>&1") != 0)
        return "running as root and there is no 'postgres' user";
      as_user = "runuser -u postgres -- ";
      if (std::system(("chown postgres: " + dir_.path()).c_str()) != 0)
        return "cannot chown the cluster directory";
      ::chmod(dir_.path().c_str(), 0755);
    }
    data_ = dir_.path() + "/data";
    const std::string log = dir_.path() + "/server.log";
    if (std::system((as_user + bin + "/initdb -D " + data_ + " -A trust -U postgres --no-sync -E UTF8 >" +
                     dir_.path() + "/initdb.log 2>&1")
                        .c_str()) != 0)
      return "initdb failed: " + SlurpFile(dir_.path() + "/initdb.log").substr(0, 300);
    port_ = 20000 + static_cast<int>(::getpid() % 20000);
    ctl_ = as_user + bin + "/pg_ctl -D " + data_;
    const std::string opts = "-k " + dir_.path() + " -c listen_addresses='' -p " + std::to_string(port_) +
                             " -c fsync=off -c synchronous_commit=off -c max_connections=200";
    if (std::system((ctl_ + " -o \"" + opts + "\" -l " + log + " -w -t 60 start >/dev/null 2>&1").c_str()) !=
        0)
      return "pg_ctl start failed: " + SlurpFile(log).substr(0, 300);
    started_ = true;
    return "";
  }

  void Stop() {
    if (!started_) return;
    started_ = false;
    (void)std::system((ctl_ + " -m fast -w stop >/dev/null 2>&1").c_str());
  }

  // libpq URI for database `postgres` over the unix socket.
  std::string Uri() const {
    return "postgresql:///postgres?host=" + dir_.path() + "&port=" + std::to_string(port_) + "&user=postgres";
  }

 private:
  TempDir dir_;
  std::string data_, ctl_;
  int port_ = 0;
  bool started_ = false;
};

}  // namespace resmeter
