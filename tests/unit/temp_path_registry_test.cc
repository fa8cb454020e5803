#include "core/temp_path_registry.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace resmeter {
namespace {

TEST(temp_path_registry_test, cleanup_unlinks_registered_paths_only) {
  char dir_tmpl[] = "/tmp/resmeter-tpr-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_tmpl), nullptr);
  std::string dir = dir_tmpl;
  std::string a = dir + "/a", b = dir + "/b";
  std::ofstream(a) << "x";
  std::ofstream(b) << "y";
  const int before = RegisteredTempPathCount();
  auto slot = RegisterTempPath(a);
  ASSERT_TRUE(slot.ok());
  EXPECT_EQ(RegisteredTempPathCount(), before + 1);
  CleanupRegisteredTempPaths();
  struct stat st;
  EXPECT_NE(::stat(a.c_str(), &st), 0);
  EXPECT_EQ(::stat(b.c_str(), &st), 0);
  EXPECT_EQ(RegisteredTempPathCount(), 0);
  UnregisterTempPath(*slot);  // harmless after cleanup
  ::unlink(b.c_str());
  ::rmdir(dir.c_str());
}

TEST(temp_path_registry_test, unregistered_paths_survive_cleanup_and_table_is_bounded) {
  auto slot = RegisterTempPath("/nonexistent/resmeter-x");
  ASSERT_TRUE(slot.ok());
  UnregisterTempPath(*slot);
  EXPECT_EQ(RegisteredTempPathCount(), 0);
  std::vector<int> slots;
  for (int i = 0; i < kMaxTempPaths; ++i) {
    auto s = RegisterTempPath("/nonexistent/p" + std::to_string(i));
    ASSERT_TRUE(s.ok());
    slots.push_back(*s);
  }
  EXPECT_FALSE(RegisterTempPath("/nonexistent/overflow").ok());
  for (int s : slots) UnregisterTempPath(s);
  CleanupRegisteredTempPaths();
  EXPECT_FALSE(RegisterTempPath("").ok());
}

TEST(temp_path_registry_test, installed_cleanup_runs_at_exit_and_on_sigterm) {
  char dir_tmpl[] = "/tmp/resmeter-tpr-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_tmpl), nullptr);
  const std::string dir = dir_tmpl;
  for (bool by_signal : {false, true}) {
    const std::string f = dir + (by_signal ? "/sig" : "/exit");
    pid_t pid = ::fork();
    if (pid == 0) {  // child: a file registered, then exit or SIGTERM itself
      std::ofstream(f) << "x";
      if (!RegisterTempPath(f).ok() || !InstallTempPathCleanupOnSignals().ok()) ::_exit(3);
      if (by_signal) ::raise(SIGTERM);
      std::exit(0);  // runs atexit handlers
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (by_signal) {
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
    } else {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    }
    struct stat st;
    EXPECT_NE(::stat(f.c_str(), &st), 0) << f << " survived";
  }
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace resmeter
