// LedgerBill: what a buyer owes for a ledger, from its authenticated usage
// statements, optionally clipped to a time range, in total and per UTC hour.
//
// A statement that straddles a range or hour boundary is prorated by the
// fraction of its period inside. The builder is fed statements in seq order
// by the audit; it is not thread-safe.
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
  double delivered_vcpu_hours = 0;
  double stolen_vcpu_hours = 0;
  double memory_gib_hours = 0;
  double gpu_hours = 0;
  double untrusted_time_hours = 0;   // metered time whose time claim was not trusted
  double restart_gap_hours = 0;      // time between a stop and the next restart marker
  std::optional<double> policy_violation_hours;  // empty: no policy evaluated
};

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
  std::vector<LedgerHourRow> hours;  // ascending, only hours with metered time or gaps
};

class LedgerBillBuilder {
 public:
  LedgerBillBuilder(std::optional<double> from, std::optional<double> to);

  // One authenticated usage statement; `policy_violated` is the policy
  // hook's verdict for its period (nullopt: not evaluated).
  void AddUsage(double start, double end, double delivered_s, double stolen_s, double mem_gib_s, double gpu_s,
                bool time_trusted, std::optional<bool> policy_violated);
  // The gap a restart marker records.
  void AddRestartGap(double start, double end);
  // A usage statement that is not authenticated.
  void AddUnauthenticated(double delivered_s);
  // The bill; the builder is spent afterwards.
  LedgerBill Finish();

 private:
  // Adds `fraction` of the amounts of one period part [a,b) to a totals record.
  void Accumulate(LedgerBillTotals& t, double hours, double fraction, const double amounts[4], bool trusted,
                  std::optional<bool> violated, bool count);
  LedgerBill bill_;
  std::map<int64_t, LedgerBillTotals> hours_;
};

}  // namespace resmeter
