// Crash test of the usage ledger: a writer process appending statements is
// killed with SIGKILL at random moments, 25 times, and restarted each time.
// Each start uses a fresh in-memory key, as the agent does. Afterwards the
// whole ledger must audit ACCEPTED, every statement the writer reported
// durable must be present, and each start has its epoch statement.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "core/env.h"
#include "core/strings.h"
#include "ledger/ledger_audit.h"
#include "ledger/ledger_files.h"
#include "ledger/ledger_reader.h"
#include "ledger/ledger_writer.h"
#include "jose/signing_key.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

constexpr int kRuns = 25;

struct RunOutput {
  std::string stdout_text;
  bool killed = false;
};

// Starts the writer and kills it `delay` after its first durable append
// (or after its start when `during_startup`), returns what it printed.
RunOutput RunAndKill(const std::string& state, std::chrono::microseconds delay, bool during_startup) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(RESMETER_LEDGER_CRASH_WRITER, RESMETER_LEDGER_CRASH_WRITER, state.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  RunOutput out;
  // A loaded machine may take long to start the writer: wait (bounded) for
  // its first durable append before starting the random delay.
  auto deadline = std::chrono::steady_clock::now() + (during_startup ? delay : std::chrono::seconds(20));
  bool armed = during_startup;
  char buf[65536];
  bool eof = false;
  // Drain the pipe until the kill moment so the writer never blocks on it.
  while (!eof && std::chrono::steady_clock::now() < deadline) {
    struct pollfd p = {fds[0], POLLIN, 0};
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count()))) > 0) {
      ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n <= 0)
        eof = true;
      else
        out.stdout_text.append(buf, static_cast<size_t>(n));
      if (!armed && out.stdout_text.find("durable") != std::string::npos) {
        armed = true;
        deadline = std::chrono::steady_clock::now() + delay;
      }
    }
  }
  out.killed = ::kill(pid, SIGKILL) == 0;
  int status = 0;
  ::waitpid(pid, &status, 0);
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    out.stdout_text.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "writer exited on its own: " << out.stdout_text;
  return out;
}

TEST(ledger_crash_test, sigkill_during_appends_loses_nothing_durable) {
  TempDir tmp;
  const std::string state = tmp.path();

  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay_us(0, 30'000);
  std::set<uint64_t> durable;
  int opened = 0, with_torn = 0, appending = 0;
  for (int i = 0; i < kRuns; ++i) {
    // Every fifth run is killed while starting up (during recovery), the
    // others at a random moment while appending.
    RunOutput out = RunAndKill(state, std::chrono::microseconds(delay_us(rng)), i % 5 == 4);
    if (out.stdout_text.find("durable") != std::string::npos) ++appending;
    for (std::string_view line : Split(out.stdout_text, '\n')) {
      auto f = SplitWhitespace(line);
      if (f.size() == 2 && f[0] == "durable") durable.insert(*ParseUint64(f[1]));
      if (!f.empty() && f[0] == "opened") ++opened;
      if (f.size() == 3 && f[0] == "opened" && f[2] != "cut=0") ++with_torn;
    }
  }
  // A last, graceful start and stop, as the agent would after the last crash.
  LedgerWriterOptions options;
  options.dir = state + "/ledger";
  options.max_file_bytes = 8192;
  auto key = *SigningKey::Generate(kAlgEdDSA);
  auto writer = LedgerWriter::Open(options, key, LedgerClock{DefaultEnv()->WallSeconds(), true, ""});
  ASSERT_TRUE(writer.ok()) << writer.status().message();
  ASSERT_TRUE((*writer)->Close().ok());
  writer->reset();

  auto files = *ListLedgerFiles(state + "/ledger");
  LedgerAuditOptions audit_options;
  audit_options.evidence.allow_none = true;  // the crash writer has no TEE: development evidence
  auto audit = AuditLedger(files, audit_options);
  ASSERT_TRUE(audit.ok()) << audit.status().message();
  std::string findings;
  for (const auto& f : audit->findings) findings += f.kind + ": " + f.message + "\n";
  EXPECT_TRUE(audit->clean()) << findings;
  EXPECT_TRUE(LedgerAuditVerdict(*audit).accepted()) << LedgerAuditVerdict(*audit).Line();
  EXPECT_EQ(audit->authenticated_statements, audit->statements);

  // Every durable seq is present as a usage statement; count restart markers.
  std::set<uint64_t> usage;
  LedgerReader reader(files);
  LedgerLine line;
  uint64_t restarts = 0;
  while (*reader.Next(&line)) {
    auto s = ParseLedgerLine(line.text);
    ASSERT_TRUE(s.ok());
    if (s->kind == LedgerKind::kUsage) usage.insert(s->seq);
    if (s->kind == LedgerKind::kEpoch) ++restarts;
  }
  for (uint64_t seq : durable) EXPECT_TRUE(usage.count(seq)) << "durable seq " << seq << " is missing";
  // Each start that got as far as printing "opened" wrote an epoch statement,
  // plus the final one; a start killed during recovery may have written one too.
  EXPECT_GE(restarts, static_cast<uint64_t>(opened) + 1);
  EXPECT_EQ(audit->epochs.size(), restarts);
  EXPECT_GE(appending, 20) << "too few runs were killed while appending";
  std::printf(
      "crash test: %d runs, %d killed while appending, %d reached appending, %zu durable statements, %llu "
      "epochs, "
      "%d recoveries cut a torn end, %zu files\n",
      kRuns, appending, opened, durable.size(), static_cast<unsigned long long>(restarts), with_torn,
      files.size());
}

}  // namespace
}  // namespace resmeter
