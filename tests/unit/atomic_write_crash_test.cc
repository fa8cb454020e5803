// The one atomic file replacement (core/atomic_write.h) and the peer key
// store (jose/key_store.h) crashed at every byte and before every
// operation through the fault-injecting Env: what is left is always the old
// file or the new one (never a mix), and a key is there whole or not at all.
// Also checks the fault Env's own model of a power loss.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/atomic_write.h"
#include "core/env.h"
#include "jose/key_store.h"
#include "jose/signing_key.h"
#include "support/fault_env.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

using testing::CrashLoss;
using testing::FaultEnv;

constexpr CrashLoss kBothLosses[] = {CrashLoss::kNothing, CrashLoss::kUnsynced};

TEST(FaultEnvTest, a_power_loss_drops_unsynced_bytes_and_entries_and_a_kill_keeps_them) {
  TempDir tmp;
  for (const CrashLoss loss : kBothLosses) {
    const std::string dir_path = tmp.path() + (loss == CrashLoss::kNothing ? "/kill" : "/power");
    FaultEnv env;
    {
      auto dir = env.OpenDirectory(dir_path, 0700);
      ASSERT_TRUE(dir.ok()) << dir.status().message();
      auto synced = (*dir)->OpenWritable("synced", WriteMode::kAppend, 0600);
      ASSERT_TRUE(synced.ok());
      ASSERT_TRUE((*synced)->Append("durable").ok());
      ASSERT_TRUE((*synced)->Sync().ok());
      ASSERT_TRUE((*dir)->Sync().ok());
      ASSERT_TRUE((*synced)->Append(" lost").ok());
      auto fresh = (*dir)->OpenWritable("fresh", WriteMode::kCreateExclusive, 0600);  // entry never synced
      ASSERT_TRUE(fresh.ok());
      ASSERT_TRUE((*fresh)->Append("x").ok());
      ASSERT_TRUE((*fresh)->Sync().ok());
      env.CrashBeforeOperation(0);
      EXPECT_FALSE((*fresh)->Append("y").ok());
      EXPECT_FALSE((*dir)->Sync().ok());
      EXPECT_TRUE(env.crashed());
    }
    ASSERT_TRUE(env.ApplyCrash(loss).ok());
    if (loss == CrashLoss::kNothing) {
      EXPECT_EQ(SlurpFile(dir_path + "/synced"), "durable lost");
      EXPECT_EQ(SlurpFile(dir_path + "/fresh"), "x");
    } else {
      EXPECT_EQ(SlurpFile(dir_path + "/synced"), "durable");
      EXPECT_FALSE(std::filesystem::exists(dir_path + "/fresh"));
    }
    EXPECT_FALSE(env.crashed());
  }
}

TEST(AtomicWriteCrashTest, a_crash_anywhere_leaves_the_old_file_or_the_new_one) {
  TempDir tmp;
  const std::string dir_path = tmp.path() + "/state";
  const std::string old_doc = "{\"kid\":\"old\"}\n";
  const std::string new_doc = "{\"kid\":\"new\",\"evidence\":{\"type\":\"none\"}}\n";
  int points = 0;
  for (const CrashLoss loss : kBothLosses) {
    // At every byte of the new content, then before every operation.
    for (int by_operation = 0; by_operation < 2; ++by_operation) {
      bool finished = false;
      for (uint64_t n = 0; n < 64 && !finished; ++n) {
        SCOPED_TRACE(std::string(by_operation ? "before operation " : "after byte ") + std::to_string(n) +
                     (loss == CrashLoss::kNothing ? ", process killed" : ", power loss"));
        std::filesystem::remove_all(dir_path);
        {
          FaultEnv setup;  // unarmed: no real fsync to wait for
          auto dir = setup.OpenDirectory(dir_path, 0700);
          ASSERT_TRUE(dir.ok()) << dir.status().message();
          ASSERT_TRUE(WriteFileAtomically(**dir, "identity.json", old_doc, 0644).ok());
        }
        FaultEnv env;
        Status written;
        {
          auto dir = env.OpenDirectory(dir_path, 0);
          ASSERT_TRUE(dir.ok());
          if (by_operation)
            env.CrashBeforeOperation(n);
          else
            env.CrashAfterBytes(n);
          written = WriteFileAtomically(**dir, "identity.json", new_doc, 0644);
        }
        if (written.ok()) {
          EXPECT_FALSE(env.crashed());
          EXPECT_EQ(SlurpFile(dir_path + "/identity.json"), new_doc);
          finished = true;
          break;
        }
        ASSERT_TRUE(env.crashed()) << written.message();
        ASSERT_TRUE(env.ApplyCrash(loss).ok());
        ++points;
        const std::string now = SlurpFile(dir_path + "/identity.json");
        EXPECT_TRUE(now == old_doc || now == new_doc) << "'" << now << "'";
        if (!by_operation) {
          EXPECT_EQ(now, old_doc);  // torn content is never renamed into place
        }
        if (::testing::Test::HasFailure()) return;
      }
      EXPECT_TRUE(finished);
    }
  }
  RecordProperty("crash_points", points);
}

TEST(AtomicWriteCrashTest, a_peer_key_crashed_anywhere_is_whole_or_absent_and_init_can_run_again) {
  TempDir tmp;
  const std::string state = tmp.path() + "/state";
  for (const CrashLoss loss : kBothLosses) {
    for (int by_operation = 0; by_operation < 2; ++by_operation) {
      bool finished = false;
      for (uint64_t n = 0; n < 400 && !finished; ++n) {
        SCOPED_TRACE(std::string(by_operation ? "before operation " : "after byte ") + std::to_string(n));
        std::filesystem::remove_all(state);
        FaultEnv env;
        if (by_operation)
          env.CrashBeforeOperation(n);
        else
          env.CrashAfterBytes(n);
        auto init = InitSigningKey(state, kAlgEdDSA, &env);
        if (init.ok()) {
          EXPECT_FALSE(env.crashed());
          auto loaded = LoadSigningKey(state);
          ASSERT_TRUE(loaded.ok()) << loaded.status().message();
          EXPECT_EQ((*loaded)->Thumbprint(), (*init)->Thumbprint());
          finished = true;
          break;
        }
        ASSERT_TRUE(env.crashed()) << init.status().message();
        ASSERT_TRUE(env.ApplyCrash(loss).ok());
        auto loaded = LoadSigningKey(state);
        if (!loaded.ok()) {
          // Absent, never half a key; `key init` then simply runs again.
          ASSERT_EQ(loaded.status().code(), Status::Code::kNotFound) << loaded.status().message();
          FaultEnv again;  // unarmed
          ASSERT_TRUE(InitSigningKey(state, kAlgEdDSA, &again).ok());
          EXPECT_TRUE(LoadSigningKey(state).ok());
        }
        if (::testing::Test::HasFailure()) return;
      }
      EXPECT_TRUE(finished);
    }
  }
}

}  // namespace
}  // namespace resmeter
