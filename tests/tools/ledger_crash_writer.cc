// Test tool for the ledger crash test: appends usage statements to
// <state>/ledger in a tight loop, printing "durable SEQ" after each append
// returned (i.e. after fsync), until killed. Like the agent, every start uses
// a fresh in-memory key (a new epoch). Not part of the product.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "core/env.h"
#include "ledger/ledger_writer.h"
#include "jose/signing_key.h"

int main(int argc, char** argv) {
  using namespace resmeter;
  if (argc != 2) {
    std::fprintf(stderr, "usage: ledger_crash_writer STATE_DIR\n");
    return 2;
  }
  const std::string state = argv[1];
  auto key = SigningKey::Generate(kAlgEdDSA);
  if (!key.ok()) {
    std::fprintf(stderr, "ledger_crash_writer: %s\n", key.status().message().c_str());
    return 2;
  }
  LedgerWriterOptions options;
  options.dir = state + "/ledger";
  options.max_file_bytes = 8192;  // rotate often, so crashes hit rotations too
  Env* env = DefaultEnv();
  auto writer = LedgerWriter::Open(options, *key, LedgerClock{env->WallSeconds(), true, ""});
  if (!writer.ok()) {
    std::fprintf(stderr, "ledger_crash_writer: %s\n", writer.status().message().c_str());
    return 1;
  }
  const LedgerRecovery& rec = (*writer)->recovery();
  std::printf("opened epoch=%llu cut=%llu\n", static_cast<unsigned long long>(rec.epoch_seq),
              static_cast<unsigned long long>(rec.cut_bytes));
  std::fflush(stdout);
  double t = env->WallSeconds();
  for (;;) {
    LedgerUsage u;
    u.start_unix_seconds = t;
    u.end_unix_seconds = std::max(t, env->WallSeconds());
    u.vcpu_delivered_seconds = 2 * (u.end_unix_seconds - t);
    u.memory_gib_seconds = 4 * (u.end_unix_seconds - t);
    u.time_trusted = true;
    auto seq = (*writer)->AppendUsage(u);
    if (!seq.ok()) {
      std::fprintf(stderr, "ledger_crash_writer: %s\n", seq.status().message().c_str());
      return 1;
    }
    std::printf("durable %llu\n", static_cast<unsigned long long>(*seq));
    std::fflush(stdout);
    t = u.end_unix_seconds;
  }
}
