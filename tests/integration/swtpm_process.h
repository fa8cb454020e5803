// SwtpmProcess: a software TPM 2.0 (swtpm) started by a test on loopback
// with a fresh state directory, stopped (SIGTERM, then SIGKILL) on destruction.
//
// swtpm socket --tpm2 --server type=tcp,port=P,bindaddr=127.0.0.1
//   --ctrl type=tcp,port=P+1,bindaddr=127.0.0.1 --flags not-need-init,startup-clear
//   --tpmstate dir=TMP
// Not thread-safe; one test owns one instance.
#pragma once

#include <sys/types.h>

#include <string>

namespace resmeter::testing {

class SwtpmProcess {
 public:
  SwtpmProcess() = default;
  ~SwtpmProcess();
  SwtpmProcess(const SwtpmProcess&) = delete;
  SwtpmProcess& operator=(const SwtpmProcess&) = delete;

  // Starts swtpm and waits (up to 10 s) until its port accepts; false with
  // `why` set when swtpm is missing or did not come up.
  bool Start(std::string* why);
  // The tss2 TCTI configuration for this TPM.
  std::string Tcti() const;
  int port() const { return port_; }
  const std::string& state_dir() const { return state_dir_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string state_dir_;
};

}  // namespace resmeter::testing
