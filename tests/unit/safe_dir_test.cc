// SafeDir against a hostile state directory: symlinked files and
// directories, group/other-writable and foreign-owned directories,
// hard links, FIFOs; the ledger writer and the key store on top of it.
#include "core/safe_dir.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "jose/key_store.h"
#include "ledger/ledger_writer.h"
#include "jose/signing_key.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

constexpr const char* kVictimText = "precious bytes that belong to someone else\n";

// Writes exactly `text` to `path` (test setup).
void Put(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

class SafeDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    state_ = tmp_.path() + "/state";
    victim_ = tmp_.path() + "/victim.txt";
    Put(victim_, kVictimText);
  }
  std::string VictimNow() const { return SlurpFile(victim_); }

  TempDir tmp_;
  std::string state_, victim_;
};

TEST_F(SafeDirTest, creates_a_missing_directory_with_mode_0700_and_accepts_it) {
  auto dir = SafeDir::Open(state_, 0700);
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  struct stat st;
  ASSERT_EQ(::stat(state_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  // Opening it again (no create) accepts it; so does a 0755 one (not writable by others).
  EXPECT_TRUE(SafeDir::Open(state_, 0).ok());
  ASSERT_EQ(::chmod(state_.c_str(), 0755), 0);
  EXPECT_TRUE(SafeDir::Open(state_, 0).ok());
}

TEST_F(SafeDirTest, missing_directory_without_create_is_not_found) {
  auto dir = SafeDir::Open(state_, 0);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kNotFound);
}

TEST_F(SafeDirTest, group_or_other_writable_directory_is_refused_naming_path_and_mode) {
  ASSERT_EQ(::mkdir(state_.c_str(), 0700), 0);
  for (mode_t mode : {0777, 0770, 0702}) {
    ASSERT_EQ(::chmod(state_.c_str(), mode), 0);
    auto dir = SafeDir::Open(state_, 0700);
    ASSERT_FALSE(dir.ok()) << std::oct << mode;
    EXPECT_EQ(dir.status().code(), Status::Code::kPermissionDenied);
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(dir.status().message().find(state_), std::string::npos) << dir.status().message();
    EXPECT_NE(dir.status().message().find(text), std::string::npos) << dir.status().message();
    EXPECT_EQ(dir.status().message().find('\n'), std::string::npos);
  }
}

TEST_F(SafeDirTest, foreign_owned_directory_is_refused_naming_the_owner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another uid";
  ASSERT_EQ(::mkdir(state_.c_str(), 0700), 0);
  ASSERT_EQ(::chown(state_.c_str(), 4242, 4242), 0);
  auto dir = SafeDir::Open(state_, 0700);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(dir.status().message().find("owned by uid 4242"), std::string::npos) << dir.status().message();
  // Root may read (never write) a service user's directory, if it is not writable by others.
  EXPECT_TRUE(SafeDir::OpenForReading(state_).ok());
  ASSERT_EQ(::chmod(state_.c_str(), 0777), 0);
  EXPECT_FALSE(SafeDir::OpenForReading(state_).ok());
}

TEST_F(SafeDirTest, symlinked_directory_is_refused_unless_only_root_or_we_could_have_made_it) {
  const std::string real = tmp_.path() + "/real";
  ASSERT_EQ(::mkdir(real.c_str(), 0700), 0);
  // A link planted in a world-writable directory (/tmp-like, sticky).
  const std::string pub = tmp_.path() + "/pub";
  ASSERT_EQ(::mkdir(pub.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(pub.c_str(), 01777), 0);
  const std::string planted = pub + "/state";
  ASSERT_EQ(::symlink(real.c_str(), planted.c_str()), 0);
  for (const std::string& path : {planted, planted + "/"}) {
    auto dir = SafeDir::Open(path, 0700);
    ASSERT_FALSE(dir.ok()) << path;
    EXPECT_EQ(dir.status().code(), Status::Code::kPermissionDenied);
    EXPECT_NE(dir.status().message().find("symbolic link"), std::string::npos) << dir.status().message();
    EXPECT_NE(dir.status().message().find(planted), std::string::npos) << dir.status().message();
  }
  // A link owned by another uid, even in our own directory.
  if (::geteuid() == 0) {
    ASSERT_EQ(::symlink(real.c_str(), state_.c_str()), 0);
    ASSERT_EQ(::lchown(state_.c_str(), 4242, 4242), 0);
    auto dir = SafeDir::Open(state_, 0700);
    ASSERT_FALSE(dir.ok());
    EXPECT_NE(dir.status().message().find("owned by uid 4242"), std::string::npos) << dir.status().message();
    ASSERT_EQ(::unlink(state_.c_str()), 0);
  }
  // Our own link in our own 0700 directory (systemd's DynamicUser= layout,
  // /var/lib/NAME -> private/NAME) is followed, and the target checked.
  ASSERT_EQ(::symlink(real.c_str(), state_.c_str()), 0);
  EXPECT_TRUE(SafeDir::Open(state_, 0700).ok());
  ASSERT_EQ(::chmod(real.c_str(), 0777), 0);
  EXPECT_FALSE(SafeDir::Open(state_, 0700).ok());
  ASSERT_EQ(::chmod(real.c_str(), 0700), 0);
  // A symlinked subdirectory (the ledger) is always refused.
  auto parent = SafeDir::Open(tmp_.path(), 0);
  ASSERT_TRUE(parent.ok()) << parent.status().message();
  auto sub = parent->OpenSubdir("state", 0700);
  ASSERT_FALSE(sub.ok());
  EXPECT_NE(sub.status().message().find("symbolic link"), std::string::npos) << sub.status().message();
}

TEST_F(SafeDirTest, symlinked_file_is_refused_for_every_open_and_its_target_is_untouched) {
  auto dir = SafeDir::Open(state_, 0700);
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(::symlink(victim_.c_str(), (state_ + "/ledger.jsonl").c_str()), 0);
  for (int flags : {O_RDONLY, O_WRONLY | O_TRUNC, O_RDWR | O_CREAT, O_WRONLY | O_APPEND | O_CREAT}) {
    auto f = dir->OpenFileAt("ledger.jsonl", flags, 0600);
    ASSERT_FALSE(f.ok()) << flags;
    EXPECT_EQ(f.status().code(), Status::Code::kPermissionDenied);
    EXPECT_NE(f.status().message().find("symbolic link"), std::string::npos) << f.status().message();
  }
  EXPECT_FALSE(dir->ReadFileAt("ledger.jsonl", 1 << 20).ok());
  EXPECT_FALSE(dir->WriteFileAtomically("ledger.jsonl", "overwritten\n", 0644).ok());
  EXPECT_EQ(VictimNow(), kVictimText);
  // A dangling link where a file will be created is refused too (nothing created at its target).
  const std::string ghost = tmp_.path() + "/ghost";
  ASSERT_EQ(::symlink(ghost.c_str(), (state_ + "/LOCK").c_str()), 0);
  EXPECT_FALSE(dir->OpenFileAt("LOCK", O_RDWR | O_CREAT, 0600).ok());
  EXPECT_NE(::access(ghost.c_str(), F_OK), 0);
}

TEST_F(SafeDirTest, fifo_and_hard_link_are_refused_before_any_write) {
  auto dir = SafeDir::Open(state_, 0700);
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(::mkfifo((state_ + "/fifo").c_str(), 0600), 0);
  auto fifo = dir->OpenFileAt("fifo", O_RDONLY);  // would block if it were opened
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.status().message().find("not a regular file"), std::string::npos);
  ASSERT_EQ(::link(victim_.c_str(), (state_ + "/hard").c_str()), 0);
  auto hard = dir->OpenFileAt("hard", O_WRONLY | O_TRUNC);
  ASSERT_FALSE(hard.ok());
  EXPECT_NE(hard.status().message().find("hard links"), std::string::npos) << hard.status().message();
  EXPECT_EQ(VictimNow(), kVictimText);
}

TEST_F(SafeDirTest, write_atomically_replaces_read_back_and_leaves_no_temporary) {
  auto dir = SafeDir::Open(state_, 0700);
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(dir->WriteFileAtomically("identity.json", "one\n", 0644).ok());
  ASSERT_TRUE(dir->WriteFileAtomically("identity.json", "two\n", 0644).ok());
  auto back = dir->ReadFileAt("identity.json", 1 << 20);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, "two\n");
  auto names = dir->List();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"identity.json"});
  EXPECT_FALSE(dir->OpenFileAt("../escape", O_RDONLY).ok());
  // The unchecked variant for user-named outputs writes through the path.
  ASSERT_TRUE(WriteFileAtomically(tmp_.path() + "/out.txt", "out\n", 0644).ok());
  EXPECT_EQ(SlurpFile(tmp_.path() + "/out.txt"), "out\n");
}

TEST_F(SafeDirTest, key_store_refuses_a_symlinked_key_and_an_open_state_dir) {
  ASSERT_EQ(::mkdir(state_.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(victim_.c_str(), SigningKeyPath(state_).c_str()), 0);
  auto init = InitSigningKey(state_, kAlgEdDSA);
  EXPECT_FALSE(init.ok());
  auto load = LoadSigningKey(state_);
  ASSERT_FALSE(load.ok());
  EXPECT_NE(load.status().message().find("symbolic link"), std::string::npos) << load.status().message();
  EXPECT_EQ(VictimNow(), kVictimText);
  ASSERT_EQ(::unlink(SigningKeyPath(state_).c_str()), 0);
  ASSERT_TRUE(InitSigningKey(state_, kAlgEdDSA).ok());
  ASSERT_TRUE(LoadSigningKey(state_).ok());
  ASSERT_EQ(::chmod(state_.c_str(), 0777), 0);
  auto open_dir = LoadSigningKey(state_);
  ASSERT_FALSE(open_dir.ok());
  EXPECT_NE(open_dir.status().message().find("0777"), std::string::npos) << open_dir.status().message();
}

// The attack of issue #17: the ledger file replaced by a symlink to a
// victim; recovery would cut (truncate) it. The writer refuses instead.
TEST_F(SafeDirTest, ledger_writer_refuses_a_symlinked_ledger_file_and_leaves_the_victim_alone) {
  LedgerWriterOptions o;
  o.dir = state_ + "/ledger";
  o.sync = false;
  auto key = SigningKey::Generate(kAlgEdDSA);
  ASSERT_TRUE(key.ok());
  {
    auto w = LedgerWriter::Open(o, *key, LedgerClock{1.8e9, true, ""});
    ASSERT_TRUE(w.ok()) << w.status().message();
    ASSERT_TRUE((*w)->Close().ok());
  }
  struct stat st;
  ASSERT_EQ(::stat(o.dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  for (const char* name : {"ledger-00000000000000000001.jsonl", "LOCK"}) {
    const std::string path = o.dir + "/" + name;
    const std::string saved = path + ".saved";
    ASSERT_EQ(::rename(path.c_str(), saved.c_str()), 0);
    ASSERT_EQ(::symlink(victim_.c_str(), path.c_str()), 0);
    auto w = LedgerWriter::Open(o, *key, LedgerClock{1.8e9 + 60, true, ""});
    ASSERT_FALSE(w.ok()) << name;
    EXPECT_EQ(w.status().code(), Status::Code::kPermissionDenied);
    EXPECT_NE(w.status().message().find(path), std::string::npos) << w.status().message();
    EXPECT_NE(w.status().message().find("symbolic link"), std::string::npos) << w.status().message();
    EXPECT_EQ(VictimNow(), kVictimText) << name;
    ASSERT_EQ(::unlink(path.c_str()), 0);
    ASSERT_EQ(::rename(saved.c_str(), path.c_str()), 0);
  }
  // A world-writable ledger directory is refused too; restored, the ledger opens.
  ASSERT_EQ(::chmod(o.dir.c_str(), 0777), 0);
  EXPECT_FALSE(LedgerWriter::Open(o, *key, LedgerClock{1.8e9 + 60, true, ""}).ok());
  ASSERT_EQ(::chmod(o.dir.c_str(), 0700), 0);
  auto w = LedgerWriter::Open(o, *key, LedgerClock{1.8e9 + 60, true, ""});
  EXPECT_TRUE(w.ok()) << w.status().message();
}

}  // namespace
}  // namespace resmeter
