// LedgerBill: what a buyer owes for a ledger, from its authenticated usage
// statements, optionally clipped to a time range, in total and per UTC hour.
//
// A statement that straddles a range or hour boundary is prorated by the
// fraction of its period inside. The builder is fed statements in seq order
// by the audit; it is not thread-safe.
//
// Delivered vCPU-hours come from measured availability where the statement
// has samples: period x vCPUs x measured ratio (the host cannot lower its
// bill's loss by hiding steal). The host-reported figure (period x vCPUs -
// steal) is kept beside it, and a period whose measured loss exceeds the
// reported steal by more than 10 % of period x vCPUs is a finding. A
// statement without samples is billed from steal and counted as unmeasured.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace resmeter {

// The totals of one hour, or of the whole range.
struct LedgerBillTotals {
  uint64_t statements = 0;           // usage statements (fractionally) in it
  double covered_hours = 0;          // metered time
  double delivered_vcpu_hours = 0;   // measured where sampled, else from steal
  double stolen_vcpu_hours = 0;
  double steal_based_delivered_vcpu_hours = 0;  // what steal alone would bill
  double measured_loss_vcpu_hours = 0;          // period x vCPUs x (1 - measured ratio), sampled periods
  double measured_hours = 0;                    // metered time with availability samples
  uint64_t unmeasured_statements = 0;           // usage statements billed from steal (no samples)
  double unmeasured_hours = 0;
  uint64_t availability_samples = 0;            // vCPU challenge windows (statements counted whole)
  double sampler_cpu_ratio_max = 0;             // highest sampler cost a statement reported, in cores
  double memory_gib_hours = 0;
  double gpu_hours = 0;
  double untrusted_time_hours = 0;   // metered time whose time claim was not trusted
  double restart_gap_hours = 0;      // time between a stop and the next restart marker
  std::optional<double> policy_violation_hours;  // empty: no policy evaluated
};

// A usage statement's measured availability (LedgerStatement's members).
struct MeasuredAvailability {
  uint64_t seq = 0;
  uint64_t samples = 0;  // 0: unmeasured
  double ratio = 0;      // mean measured availability, 0..1
  uint64_t vcpus = 0;
  double sampler_cpu_ratio = 0;
};

// Consecutive statements whose measured loss exceeds reported steal plus
// 10 % of period x vCPUs: the host took CPU time without reporting it.
struct AvailabilityDisagreement {
  uint64_t first_seq = 0, last_seq = 0;
  double start_unix_seconds = 0, end_unix_seconds = 0;
  double capacity_vcpu_seconds = 0;       // period x vCPUs, summed
  double measured_loss_vcpu_seconds = 0;  // capacity x (1 - measured ratio), summed
  double stolen_vcpu_seconds = 0;         // reported steal, summed
};
// The share of capacity beyond reported steal that makes a disagreement.
inline constexpr double kAvailabilityDisagreementRatio = 0.10;

struct LedgerHourRow {
  int64_t hour_start_unix_seconds = 0;
  LedgerBillTotals totals;
};

struct LedgerBill {
  LedgerBillTotals totals;
  std::optional<double> from_unix_seconds, to_unix_seconds;
  // Usage statements that no valid signature covers: listed, never billed.
  uint64_t unauthenticated_statements = 0;
  double unauthenticated_vcpu_hours = 0;
  std::vector<AvailabilityDisagreement> availability_disagreements;  // in seq order
  std::vector<LedgerHourRow> hours;  // ascending, only hours with metered time or gaps
};

class LedgerBillBuilder {
 public:
  LedgerBillBuilder(std::optional<double> from, std::optional<double> to);

  // One authenticated usage statement; `policy_violated` is the policy
  // hook's verdict for its period (nullopt: not evaluated); `measured` its
  // measured availability (default: none, billed from steal).
  void AddUsage(double start, double end, double delivered_s, double stolen_s, double mem_gib_s, double gpu_s,
                bool time_trusted, std::optional<bool> policy_violated, const MeasuredAvailability& measured = {});
  // The gap a restart marker records.
  void AddRestartGap(double start, double end);
  // A usage statement that is not authenticated.
  void AddUnauthenticated(double delivered_s);
  // The bill; the builder is spent afterwards.
  LedgerBill Finish();

 private:
  // Adds `fraction` of the amounts of one period part [a,b) to a totals record.
  // delivered, stolen, GiB-s, GPU-s, steal-based delivered, measured loss
  static constexpr int kAmounts = 6;
  void Accumulate(LedgerBillTotals& t, double hours, double fraction, const double amounts[kAmounts], bool trusted,
                  std::optional<bool> violated, bool count, const MeasuredAvailability& measured);
  // Records a disagreement between measured loss and reported steal.
  void NoteDisagreement(double start, double end, double capacity_s, double loss_s, double stolen_s, uint64_t seq);
  LedgerBill bill_;
  std::map<int64_t, LedgerBillTotals> hours_;
};

}  // namespace resmeter
