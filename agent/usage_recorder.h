// UsageRecorder: the agent's side of the hash-chained usage ledger
// (ledger/ledger_writer.h). A thread appends one usage statement per
// ledger.period_seconds from the UsageAccountant (delivered and stolen
// vCPU-seconds, memory GiB-seconds, GPU-seconds), with the time claim's trust
// and the digest of the latest capability report.
//
// With ledger.availability_enabled it also runs a CpuAvailabilitySampler
// (started and stopped with the recorder) whose samples the accountant puts
// in each period.
//
// Open() recovers the ledger (whatever follows the last authentic, linked
// statement, or an epoch statement whose evidence does not verify under the
// agent's own verifier options, is cut off and logged) and appends the epoch
// statement of this start's key. Stop() appends the statement of the
// current, partial period and closes the ledger with a shutdown checkpoint.
// A failed append is logged and counted; the ledger is reopened (recovered,
// with a new epoch statement) at the next period. Each durable append is
// logged at info with its seq and the SHA-256 of its line.
//
// Read serves pages from a LedgerIndex (ledger/ledger_index.h) built when
// the ledger is opened (and reopened) and extended after each append, so a
// page costs O(page) whatever the ledger's size.
//
// Thread-safe: Read may run on HTTP threads while the recorder appends.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "agent/agent_state.h"
#include "agent/config.h"
#include "agent/logger.h"
#include "agent/usage_accountant.h"
#include "core/env.h"
#include "core/signer.h"
#include "evidence/evidence_verifier.h"
#include "ledger/ledger_index.h"
#include "ledger/ledger_writer.h"

namespace resmeter {

class UsageRecorder {
 public:
  struct Deps {
    AgentState* state = nullptr;
    Logger* log = nullptr;
    Env* env = nullptr;
    std::shared_ptr<const Signer> signer;
    UsageAccountant* accountant = nullptr;
    // Evidence for each epoch statement (LedgerWriterOptions::collect_evidence).
    std::function<Result<nlohmann::json>(const std::string& kid, const std::string& nonce)> collect_evidence;
    // How recovery appraises earlier epoch statements' evidence
    // (LedgerWriterOptions::epoch_evidence): the agent's trust anchors;
    // allow_none only when the agent itself runs with "none" evidence.
    EvidenceVerifyOptions epoch_evidence;
    // The `time` claim now (CurrentTimeClaim in the agent).
    std::function<nlohmann::json()> time_claim;
  };

  // <state_dir>/ledger
  static std::string LedgerDir(const Config& config);
  // Opens and recovers the ledger; starts the first period. Errors from
  // LedgerWriter::Open (IOError, PermissionDenied when another writer holds it).
  static Result<std::unique_ptr<UsageRecorder>> Open(Deps deps, const Config& config);
  ~UsageRecorder();  // stops
  UsageRecorder(const UsageRecorder&) = delete;
  UsageRecorder& operator=(const UsageRecorder&) = delete;

  // Starts the period thread.
  void Start();
  // Appends the partial period, closes the ledger, joins. Idempotent.
  void Stop();
  // Complete lines with seq >= from, at most max_lines, each with its newline
  // (sought through the index; see LedgerIndex::Read).
  Result<std::string> Read(uint64_t from, size_t max_lines) const;

 private:
  UsageRecorder(Deps deps, const Config& config);
  Status OpenWriter();
  // Closes the accountant's period and appends it (reopening after a failure).
  void AppendPeriod();
  void Loop();
  void PublishHead();
  // Adds the lines just appended to the index (rebuilds it when a Read found it stale).
  void ExtendIndex();

  Deps deps_;
  LedgerWriterOptions options_;
  double period_seconds_;
  std::unique_ptr<CpuAvailabilitySampler> sampler_;  // measured availability (null when disabled)
  std::unique_ptr<LedgerWriter> writer_;  // only the recorder thread (or Stop after join) touches it
  LedgerIndex index_;                     // built and extended by the recorder thread; read by HTTP threads
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool stopped_ = false;
  std::thread thread_;
  uint64_t appended_ = 0, errors_ = 0;
  double last_append_ = 0;
};

}  // namespace resmeter
