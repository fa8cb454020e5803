// Crash recovery of the usage ledger, replayed deterministically through a
// fault-injecting Env (tests/support/fault_env.h) instead of killing
// processes: the writer crashes at every byte of a usage statement, at every
// byte of the epoch statement a restart writes, and before every file
// operation of a recovery that cuts a torn tail; both after a killed process
// (written bytes survive) and after a power loss (unsynced bytes and entries
// are lost). Every time the next start must recover, keep every statement
// whose append returned (it was synced), mark the restart with an epoch
// statement, and leave a ledger the audit accepts.
// (The SIGKILL test, tests/integration/ledger_crash_test.cc, stays.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "jose/signing_key.h"
#include "ledger/ledger_audit.h"
#include "ledger/ledger_files.h"
#include "ledger/ledger_writer.h"
#include "ledger_test_support.h"
#include "support/fault_env.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

using testing::CrashLoss;
using testing::FaultEnv;

constexpr double kT0 = 1'800'000'000;
constexpr CrashLoss kBothLosses[] = {CrashLoss::kNothing, CrashLoss::kUnsynced};

const char* LossName(CrashLoss loss) { return loss == CrashLoss::kNothing ? "process killed" : "power loss"; }

class LedgerTornWriteTest : public LedgerWriterFixture {
 protected:
  void SetUp() override {
    LedgerWriterFixture::SetUp();
    // Development evidence ("none") keeps a sweep of hundreds of restarts
    // fast; the SEV-SNP appraisal of epochs is covered by the recovery tests.
    options_.collect_evidence = nullptr;
    options_.epoch_evidence = evidence_->VerifyOptions(/*allow_dev=*/true);
    template_dir_ = options_.dir;
    run_dir_ = tmp_.path() + "/run";
  }

  // A fresh copy of the template ledger to crash in.
  void ResetRunDir() {
    std::filesystem::remove_all(run_dir_);
    std::filesystem::copy(template_dir_, run_dir_, std::filesystem::copy_options::recursive);
  }

  // Opens a writer on the run directory through `env` (nullptr: an unarmed
  // FaultEnv of the fixture's, which skips the real fsyncs), with a fresh key.
  // The crashing starts use one key, so that crashes leaving the same bytes
  // leave the same directory (see SweepTornLine).
  Result<std::unique_ptr<LedgerWriter>> OpenRun(Env* env, double now) {
    LedgerWriterOptions o = options_;
    o.dir = run_dir_;
    o.env = env ? env : &no_faults_;
    if (env && !crash_key_) crash_key_ = *SigningKey::Generate(kAlgEdDSA);
    return LedgerWriter::Open(o, env ? crash_key_ : *SigningKey::Generate(kAlgEdDSA),
                              LedgerClock{now, true, ""});
  }

  LedgerAuditResult AuditRun() {
    auto o = evidence_->Options(/*allow_dev=*/true);
    o.threads = 1;
    auto r = AuditLedger(*ListLedgerFiles(run_dir_), o);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : LedgerAuditResult{};
  }

  static LedgerUsage Period(double t) { return LedgerUsage{{t, t + 60, 117.6, 2.4, 960, 0}, true, "", ""}; }

  // Size of the run directory's ledger file.
  uint64_t FileBytes() const { return std::filesystem::file_size(run_dir_ + "/" + LedgerFileName(1)); }

  // For both losses and every k in [0, line_bytes]: on a fresh copy of the
  // template, `write(env, k)` (which arms `env` to crash after k bytes of the
  // line) must fail with the crash; the crash is applied and `check(kept)`
  // judges the restart, `kept` being the line's bytes left in the file. At
  // k = line_bytes + 1 the write must succeed: the sweep covered the line.
  void SweepTornLine(uint64_t line_bytes, const std::function<Status(FaultEnv&, uint64_t)>& write,
                     const std::function<void(uint64_t)>& check) {
    for (const CrashLoss loss : kBothLosses) {
      for (uint64_t k = 0; k <= line_bytes + 1; ++k) {
        SCOPED_TRACE(std::string(LossName(loss)) + " after byte " + std::to_string(k) + " of " +
                     std::to_string(line_bytes));
        ResetRunDir();
        FaultEnv env;
        Status written = write(env, k);
        if (k == line_bytes + 1) {
          EXPECT_TRUE(written.ok()) << written.message();
          EXPECT_FALSE(env.crashed());
          break;
        }
        ASSERT_FALSE(written.ok());
        ASSERT_TRUE(env.crashed()) << written.message();
        ASSERT_TRUE(env.ApplyCrash(loss).ok());
        ++offsets_;
        // Recovery is a function of the directory's bytes: a crash that left
        // a directory already recovered (every power loss here leaves the
        // last synced state) is not recovered again.
        if (!recovered_states_.insert(DirectoryBytes(run_dir_)).second) continue;
        check(loss == CrashLoss::kNothing ? k : 0);
        if (::testing::Test::HasFailure()) return;
      }
    }
    EXPECT_EQ(offsets_, 2 * static_cast<int>(line_bytes + 1));
    RecordProperty("line_bytes", static_cast<int>(line_bytes));
    RecordProperty("crash_offsets", offsets_);
    RecordProperty("recoveries", static_cast<int>(recovered_states_.size()));
  }

  // Every file's name and content, in name order.
  static std::string DirectoryBytes(const std::string& dir) {
    std::map<std::string, std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(dir))
      files[e.path().filename().string()] = SlurpFile(e.path().string());
    std::string out;
    for (const auto& [name, content] : files)
      out += name + '\0' + std::to_string(content.size()) + '\0' + content;
    return out;
  }

  FaultEnv no_faults_;
  std::shared_ptr<SigningKey> crash_key_;
  std::set<std::string> recovered_states_;
  std::string template_dir_, run_dir_;
  int offsets_ = 0;  // crash points exercised, for the record
};

// The crashing start begins a new ledger (the template is empty), appends
// one period and crashes in the next one.
TEST_F(LedgerTornWriteTest, usage_statement_torn_at_every_byte_loses_no_synced_statement) {
  std::filesystem::create_directory(template_dir_);
  std::filesystem::permissions(template_dir_, std::filesystem::perms::owner_all);
  const double t = kT0;
  // The line the sweep tears, measured once without a crash.
  ResetRunDir();
  uint64_t line_bytes = 0;
  {
    auto dry = OpenRun(nullptr, t);
    ASSERT_TRUE(dry.ok()) << dry.status().message();
    ASSERT_TRUE((*dry)->AppendUsage(Period(t)).ok());
    const uint64_t before = FileBytes();
    ASSERT_TRUE((*dry)->AppendUsage(Period(t + 60)).ok());
    line_bytes = FileBytes() - before;
  }
  ASSERT_GT(line_bytes, 100u);

  uint64_t synced_seq = 0;  // the crashed start's first period, synced
  auto write = [&](FaultEnv& env, uint64_t k) -> Status {
    auto crashing = OpenRun(&env, t);
    if (!crashing.ok()) return crashing.status();
    RESMETER_ASSIGN_OR_RETURN(synced_seq, (*crashing)->AppendUsage(Period(t)));
    env.CrashAfterBytes(k);
    return (*crashing)->AppendUsage(Period(t + 60)).status();  // the process dies with the writer
  };
  auto check = [&](uint64_t kept) {
    auto restarted = OpenRun(nullptr, t + 180);
    ASSERT_TRUE(restarted.ok()) << restarted.status().message();
    const LedgerRecovery rec = (*restarted)->recovery();  // a copy: the writer is closed below
    const bool whole_line = kept == line_bytes;           // written, not yet synced, but complete
    EXPECT_EQ(rec.last_seq, synced_seq + (whole_line ? 1 : 0));
    EXPECT_EQ(rec.cut_bytes, whole_line ? 0 : kept);
    EXPECT_FALSE(rec.clean);  // the restart marker: an epoch saying the stop was unclean
    EXPECT_EQ(rec.epoch_seq, rec.last_seq + 1);
    ASSERT_TRUE((*restarted)->AppendUsage(Period(t + 180)).ok());
    ASSERT_TRUE((*restarted)->Close().ok());
    restarted->reset();

    auto r = AuditRun();
    EXPECT_TRUE(LedgerAuditVerdict(r).accepted()) << LedgerAuditVerdict(r).Line() << "\n"
                                                  << DescribeFindings(r);
    ASSERT_EQ(r.epochs.size(), 2u);
    EXPECT_FALSE(r.epochs[1].clean);
    EXPECT_EQ(r.epochs[1].reason.rfind("recovered after unclean stop", 0), 0u) << r.epochs[1].reason;
    EXPECT_EQ(r.epochs[1].cut_bytes, rec.cut_bytes);
    if (rec.cut_bytes > 0) {
      EXPECT_EQ(FindFinding(r, "cut").seq, rec.epoch_seq);
    }
    // The synced period, the torn one only when it was whole, the one after.
    EXPECT_EQ(r.bill.totals.statements, 1u + (whole_line ? 1 : 0) + 1);
  };
  SweepTornLine(line_bytes, write, check);
}

// A restart that crashes while writing its own epoch statement (recovery
// itself interrupted): the start after it must still recover.
TEST_F(LedgerTornWriteTest, epoch_statement_torn_at_every_byte_during_a_restart_is_recovered) {
  auto w = Open(kT0);
  const double t = Append(*w, 1, kT0);
  ASSERT_TRUE(w->Close().ok());
  w.reset();
  const uint64_t template_seq = 3;  // epoch, 1 usage, shutdown checkpoint
  ResetRunDir();
  uint64_t line_bytes = 0;
  {
    const uint64_t before = FileBytes();
    auto dry = OpenRun(nullptr, t + 60);
    ASSERT_TRUE(dry.ok()) << dry.status().message();
    ASSERT_EQ((*dry)->recovery().last_seq, template_seq);
    line_bytes = FileBytes() - before;
  }

  auto write = [&](FaultEnv& env, uint64_t k) -> Status {
    env.CrashAfterBytes(k);
    return OpenRun(&env, t + 60).status();
  };
  auto check = [&](uint64_t kept) {
    auto restarted = OpenRun(nullptr, t + 120);
    ASSERT_TRUE(restarted.ok()) << restarted.status().message();
    const LedgerRecovery rec = (*restarted)->recovery();  // a copy: the writer is closed below
    const bool whole_line = kept == line_bytes;           // the crashed start's epoch survived whole
    EXPECT_EQ(rec.last_seq, template_seq + (whole_line ? 1 : 0));
    EXPECT_EQ(rec.cut_bytes, whole_line ? 0 : kept);
    EXPECT_EQ(rec.clean, !whole_line);  // after the clean stop, nothing the crashed start wrote stays
    ASSERT_TRUE((*restarted)->Close().ok());
    restarted->reset();

    auto r = AuditRun();
    EXPECT_TRUE(LedgerAuditVerdict(r).accepted()) << LedgerAuditVerdict(r).Line() << "\n"
                                                  << DescribeFindings(r);
    ASSERT_EQ(r.epochs.size(), whole_line ? 3u : 2u);
    EXPECT_EQ(r.epochs.back().cut_bytes, rec.cut_bytes);
    EXPECT_EQ(r.bill.totals.statements, 1u);
  };
  SweepTornLine(line_bytes, write, check);
}

// A recovery that cuts (a torn tail, and a later file holding only garbage)
// crashes before each of its file operations in turn: the next start
// recovers, no synced statement is lost, and the cut bytes are either
// recorded in an epoch statement or still kept aside in the cut file.
TEST_F(LedgerTornWriteTest, a_cutting_recovery_crashed_before_each_operation_is_recovered) {
  auto w = Open(kT0);
  const double t = Append(*w, 3, kT0);
  w.reset();  // a crash: no shutdown checkpoint; seq 1..4 synced
  const std::string torn = "{\"v\":2,\"seq\":5,\"prev\":\"ab";
  const std::string garbage = "not a statement\n";
  { std::ofstream(template_dir_ + "/" + LedgerFileName(1), std::ios::app) << torn; }
  { std::ofstream(template_dir_ + "/" + LedgerFileName(5)) << garbage; }
  const std::string cut_file = run_dir_ + "/cut-00000000000000000005.bin";

  for (const CrashLoss loss : kBothLosses) {
    bool finished = false;
    for (uint64_t n = 0; n < 100 && !finished; ++n) {
      SCOPED_TRACE(std::string(LossName(loss)) + " before operation " + std::to_string(n));
      ResetRunDir();
      FaultEnv env;
      env.CrashBeforeOperation(n);
      auto crashing = OpenRun(&env, t + 60);
      if (crashing.ok()) {  // every operation done: the sweep is complete
        EXPECT_FALSE(env.crashed());
        finished = true;
        break;
      }
      ASSERT_TRUE(env.crashed()) << crashing.status().message();
      ASSERT_TRUE(env.ApplyCrash(loss).ok());
      ++offsets_;

      auto restarted = OpenRun(nullptr, t + 120);
      ASSERT_TRUE(restarted.ok()) << restarted.status().message();
      ASSERT_TRUE((*restarted)->Close().ok());
      restarted->reset();
      auto r = AuditRun();
      EXPECT_TRUE(LedgerAuditVerdict(r).accepted()) << LedgerAuditVerdict(r).Line() << "\n"
                                                    << DescribeFindings(r);
      EXPECT_EQ(r.bill.totals.statements, 3u);  // none of the synced periods lost
      EXPECT_FALSE(r.epochs.back().clean);      // the restart after the crash is marked unclean
      uint64_t recorded = 0;
      for (const auto& e : r.epochs) recorded += e.cut_bytes;
      const bool kept_aside = SlurpFile(cut_file) == torn + garbage;
      EXPECT_TRUE(recorded == torn.size() + garbage.size() || kept_aside)
          << "cut bytes neither recorded (" << recorded << ") nor kept in " << cut_file;
      if (::testing::Test::HasFailure()) return;
    }
    EXPECT_TRUE(finished);
  }
  RecordProperty("crash_points", offsets_);
}

}  // namespace
}  // namespace resmeter
