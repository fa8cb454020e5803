#include "agent/usage_recorder.h"

#include <chrono>

#include "ledger/ledger_statement.h"

namespace resmeter {
namespace {

// Trust and reason from a time claim.
void TimeTrust(const nlohmann::json& claim, bool* trusted, std::string* reason) {
  *trusted = claim.is_object() && claim.value("trusted", false);
  *reason = *trusted ? ""
                     : (claim.is_object() ? claim.value("reason", std::string("time claim without a reason"))
                                          : std::string("no time claim"));
}

}  // namespace

std::string UsageRecorder::LedgerDir(const Config& config) {
  return config.global.String("state_dir") + "/ledger";
}

UsageRecorder::UsageRecorder(Deps deps, const Config& config)
    : deps_(std::move(deps)), period_seconds_(config.global.Double("ledger.period_seconds")) {
  options_.dir = LedgerDir(config);
  options_.max_file_bytes = static_cast<uint64_t>(config.global.Int("ledger.max_file_bytes"));
  // Every v2 statement is signed: no interval checkpoints (ledger.checkpoint_every is ignored).
  options_.checkpoint_every = 0;
  options_.collect_evidence = deps_.collect_evidence;
  options_.epoch_evidence = deps_.epoch_evidence;
}

UsageRecorder::~UsageRecorder() { Stop(); }

Result<std::unique_ptr<UsageRecorder>> UsageRecorder::Open(Deps deps, const Config& config) {
  std::unique_ptr<UsageRecorder> r(new UsageRecorder(std::move(deps), config));
  RESMETER_RETURN_IF_ERROR(r->OpenWriter());
  r->deps_.accountant->Begin();
  if (config.global.Bool("ledger.availability_enabled")) {  // measured availability
    AvailabilitySamplerOptions o;
    o.cpu_budget_ratio = config.global.Double("ledger.availability_cpu_budget_ratio");
    o.interval_seconds = config.global.Double("ledger.availability_interval_seconds");
    o.warmup_seconds = config.global.Double("ledger.availability_warmup_seconds");
    o.window_seconds = config.global.Double("ledger.availability_window_seconds");
    o.proc_root = config.global.String("paths.proc_root");
    o.sys_root = config.global.String("paths.sys_root");
    r->sampler_ = std::make_unique<CpuAvailabilitySampler>(r->deps_.env, o);
  }
  return r;
}

Status UsageRecorder::OpenWriter() {
  LedgerClock clock;
  clock.now_unix_seconds = deps_.env->WallSeconds();
  TimeTrust(deps_.time_claim(), &clock.trusted, &clock.reason);
  auto writer = LedgerWriter::Open(options_, deps_.signer, clock);
  if (!writer.ok()) return writer.status().WithContext("ledger " + options_.dir);
  writer_ = std::move(*writer);
  const LedgerRecovery& rec = writer_->recovery();
  LogFields fields = {{"dir", options_.dir},
                      {"epoch_seq", rec.epoch_seq},
                      {"last_seq", rec.last_seq},
                      {"new_ledger", rec.new_ledger},
                      {"clean", rec.clean},
                      {"gap_seconds", rec.gap_seconds},
                      {"kid", deps_.signer->Thumbprint()}};
  if (rec.cut_bytes > 0) {
    fields.emplace_back("cut_bytes", rec.cut_bytes);
    fields.emplace_back("cut_sha256", rec.cut_sha256);
    fields.emplace_back("cut_file", rec.cut_file);
    fields.emplace_back("cut_saved_to", rec.cut_saved_to);
    fields.emplace_back("cut_reason", rec.cut_reason);
    deps_.log->Warn("ledger recovered: cut off what followed the last authentic statement", fields);
  } else {
    deps_.log->Info("ledger opened", fields);
  }
  // Index the recovered ledger once, so /v1/ledger pages seek instead of scanning.
  if (Status s = index_.Build(options_.dir); !s.ok())
    deps_.log->Warn("ledger index not built; /v1/ledger scans the files", {{"error", s.message()}});
  PublishHead();
  return Status::Ok();
}

void UsageRecorder::ExtendIndex() {
  Status s = index_.stale() ? index_.Build(options_.dir) : index_.Extend();
  if (!s.ok()) deps_.log->Warn("ledger index not extended", {{"error", s.message()}});
}

void UsageRecorder::PublishHead() {
  LedgerHead head;
  head.enabled = true;
  head.last_seq = writer_ ? writer_->last_seq() : 0;
  head.appended = appended_;
  head.append_errors = errors_;
  head.last_append_unix_seconds = last_append_;
  head.file = writer_ ? writer_->current_file() : "";
  deps_.state->SetLedgerHead(head);
}

void UsageRecorder::AppendPeriod() {
  PeriodUsage p = deps_.accountant->ClosePeriod();
  for (const auto& note : p.notes) deps_.log->Warn("ledger period not fully measured", {{"note", note}});
  LedgerUsage u;
  static_cast<MeteredPeriod&>(u) = p;  // the period's quantities; time and report below
  u.availability = p.availability;     // measured availability
  TimeTrust(deps_.time_claim(), &u.time_trusted, &u.time_reason);
  if (auto report = deps_.state->LatestReport()) u.report_digest = report->digest_hex;

  if (!writer_) {
    Status s = OpenWriter();
    if (!s.ok()) {
      ++errors_;
      deps_.log->Error("ledger reopen failed; this period is not recorded", {{"error", s.message()}});
      PublishHead();
      return;
    }
  }
  auto seq = writer_->AppendUsage(u);
  if (!seq.ok()) {
    ++errors_;
    deps_.log->Error("ledger append failed; reopening at the next period",
                     {{"error", seq.status().message()}});
    writer_.reset();  // releases the lock; the next period recovers
    PublishHead();
    return;
  }
  ++appended_;
  last_append_ = deps_.env->WallSeconds();
  ExtendIndex();
  deps_.log->Info("ledger statement appended", {{"seq", *seq},
                                                {"head", writer_->head()},
                                                {"last_seq", writer_->last_seq()},
                                                {"vcpu_delivered_seconds", u.vcpu_delivered_seconds},
                                                {"vcpu_availability_samples", u.availability.samples},
                                                {"vcpu_availability_measured_ratio", u.availability.measured_ratio},
                                                {"availability_sampler_cpu_ratio", u.availability.sampler_cpu_ratio},
                                                {"memory_gib_seconds", u.memory_gib_seconds}});
  PublishHead();
}

void UsageRecorder::Start() {
  if (sampler_) {  // measured availability
    Status s = sampler_->Start();
    if (s.ok()) deps_.accountant->AttachSampler(sampler_.get());
    else deps_.log->Warn("cpu availability sampler not started; billing from steal", {{"error", s.message()}});
  }
  thread_ = std::thread([this] { Loop(); });
}

void UsageRecorder::Loop() {
  using Clock = std::chrono::steady_clock;
  const auto period =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(period_seconds_));
  auto next = Clock::now() + period;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_until(lock, next, [&] { return stop_; })) return;
    }
    AppendPeriod();
    next += period;
    if (next < Clock::now()) next = Clock::now() + period;  // fell behind (suspend): restart the grid
  }
}

void UsageRecorder::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  if (sampler_) sampler_->Stop();  // measured availability: no round after this
  // The current, partial period, then the shutdown checkpoint.
  AppendPeriod();
  if (sampler_) deps_.accountant->AttachSampler(nullptr);
  if (writer_) {
    Status s = writer_->Close();
    if (!s.ok())
      deps_.log->Error("ledger close failed", {{"error", s.message()}});
    else
      deps_.log->Info("ledger closed", {{"last_seq", writer_->last_seq()}});
    ExtendIndex();
    PublishHead();
  }
}

Result<std::string> UsageRecorder::Read(uint64_t from, size_t max_lines) const {
  return index_.Read(from, max_lines);
}

}  // namespace resmeter
