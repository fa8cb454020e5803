// SwtpmProcess: a software TPM 2.0 (swtpm) started by a test on loopback
// with a fresh state directory, stopped (SIGTERM, then SIGKILL) on destruction.
//
// swtpm socket --tpm2 --server type=tcp,port=P,bindaddr=127.0.0.1
//   --ctrl type=tcp,port=P+1,bindaddr=127.0.0.1 --flags not-need-init,startup-clear
//   --tpmstate dir=TMP
// StartManufactured first runs `swtpm_setup --tpm2 --create-ek-cert` on the
// state directory with swtpm_localca configured to sign with a test's EK CA
// (key and certificate PEM files): the TPM then has RSA and ECC EKs (persistent
// 0x81010001 / 0x81010016) and their certificates in NV (0x01c00002 /
// 0x01c00016), as a TPM vendor or cloud provisions them.
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
  // Manufactures the TPM with EK certificates signed by the EK CA, then starts
  // it; false with `why` set when swtpm_setup is missing or fails.
  bool StartManufactured(const std::string& ek_ca_key_pem, const std::string& ek_ca_cert_pem,
                         std::string* why);
  // The tss2 TCTI configuration for this TPM.
  std::string Tcti() const;
  int port() const { return port_; }
  const std::string& state_dir() const { return state_dir_; }

 private:
  // Creates the fresh state directory; false with `why` set.
  bool MakeStateDir(std::string* why);
  // Starts swtpm on the state directory and waits until it listens.
  bool Launch(std::string* why);
  pid_t pid_ = -1;
  int port_ = 0;
  std::string state_dir_;
};

}  // namespace resmeter::testing
