#include "ledger/ledger_bill.h"

#include <algorithm>
#include <cmath>

namespace resmeter {
namespace {
constexpr double kSecondsPerHour = 3600;

// Floor of t to the start of its UTC hour.
int64_t HourOf(double t) { return static_cast<int64_t>(std::floor(t / kSecondsPerHour)) * 3600; }

// Adds v to an optional sum, creating it.
void AddOptional(std::optional<double>& sum, double v) { sum = sum.value_or(0) + v; }
}  // namespace

LedgerBillBuilder::LedgerBillBuilder(std::optional<double> from, std::optional<double> to) {
  bill_.from_unix_seconds = from;
  bill_.to_unix_seconds = to;
}

void LedgerBillBuilder::Accumulate(LedgerBillTotals& t, double hours, double fraction,
                                   const double amounts[kAmounts], bool trusted, std::optional<bool> violated,
                                   bool count, const MeasuredAvailability& measured) {
  if (count) ++t.statements;
  t.covered_hours += hours;
  t.delivered_vcpu_hours += amounts[0] * fraction / kSecondsPerHour;
  t.stolen_vcpu_hours += amounts[1] * fraction / kSecondsPerHour;
  t.memory_gib_hours += amounts[2] * fraction / kSecondsPerHour;
  t.gpu_hours += amounts[3] * fraction / kSecondsPerHour;
  t.steal_based_delivered_vcpu_hours += amounts[4] * fraction / kSecondsPerHour;
  t.measured_loss_vcpu_hours += amounts[5] * fraction / kSecondsPerHour;
  if (measured.samples > 0) {
    t.measured_hours += hours;
    if (count) t.availability_samples += measured.samples;
  } else {
    t.unmeasured_hours += hours;
    if (count) ++t.unmeasured_statements;
  }
  t.sampler_cpu_ratio_max = std::max(t.sampler_cpu_ratio_max, measured.sampler_cpu_ratio);
  if (!trusted) t.untrusted_time_hours += hours;
  if (violated.has_value()) AddOptional(t.policy_violation_hours, *violated ? hours : 0.0);
}

void LedgerBillBuilder::AddUsage(double start, double end, double delivered_s, double stolen_s, double mem_gib_s,
                                 double gpu_s, bool time_trusted, std::optional<bool> policy_violated,
                                 const MeasuredAvailability& measured) {
  const double a = bill_.from_unix_seconds ? std::max(start, *bill_.from_unix_seconds) : start;
  const double b = bill_.to_unix_seconds ? std::min(end, *bill_.to_unix_seconds) : end;
  const double duration = end - start;
  // Measured: period x vCPUs x ratio; unmeasured: the host-reported figure.
  MeasuredAvailability m = measured;
  if (m.vcpus == 0) m.samples = 0;
  const double capacity = std::max(0.0, duration) * static_cast<double>(m.vcpus);
  const double billed = m.samples > 0 ? capacity * std::clamp(m.ratio, 0.0, 1.0) : delivered_s;
  const double loss = m.samples > 0 ? capacity - billed : 0;
  const double amounts[kAmounts] = {billed, stolen_s, mem_gib_s, gpu_s, delivered_s, loss};
  if (duration <= 0) {  // an instant: all or nothing
    if (a > b) return;
    Accumulate(bill_.totals, 0, 1, amounts, time_trusted, policy_violated, true, m);
    Accumulate(hours_[HourOf(start)], 0, 1, amounts, time_trusted, policy_violated, true, m);
    return;
  }
  if (b <= a) return;
  if (m.samples > 0 && loss > stolen_s + kAvailabilityDisagreementRatio * capacity) {
    NoteDisagreement(start, end, capacity, loss, stolen_s, m.seq);
  }
  Accumulate(bill_.totals, (b - a) / kSecondsPerHour, (b - a) / duration, amounts, time_trusted, policy_violated, true,
             m);
  bool first = true;
  for (double p = a; p < b;) {
    const int64_t hour = HourOf(p);
    const double q = std::min(b, static_cast<double>(hour + 3600));
    Accumulate(hours_[hour], (q - p) / kSecondsPerHour, (q - p) / duration, amounts, time_trusted, policy_violated,
               first, m);
    first = false;
    p = q;
  }
}

void LedgerBillBuilder::NoteDisagreement(double start, double end, double capacity_s, double loss_s,
                                         double stolen_s, uint64_t seq) {
  auto& list = bill_.availability_disagreements;
  if (list.empty() || list.back().last_seq + 1 != seq) {  // a new run of consecutive statements
    AvailabilityDisagreement d;
    d.first_seq = seq;
    d.start_unix_seconds = start;
    list.push_back(d);
  }
  AvailabilityDisagreement& d = list.back();
  d.last_seq = seq;
  d.end_unix_seconds = end;
  d.capacity_vcpu_seconds += capacity_s;
  d.measured_loss_vcpu_seconds += loss_s;
  d.stolen_vcpu_seconds += stolen_s;
}

void LedgerBillBuilder::AddRestartGap(double start, double end) {
  const double a = bill_.from_unix_seconds ? std::max(start, *bill_.from_unix_seconds) : start;
  const double b = bill_.to_unix_seconds ? std::min(end, *bill_.to_unix_seconds) : end;
  if (b <= a) return;
  bill_.totals.restart_gap_hours += (b - a) / kSecondsPerHour;
  for (double p = a; p < b;) {
    const int64_t hour = HourOf(p);
    const double q = std::min(b, static_cast<double>(hour + 3600));
    hours_[hour].restart_gap_hours += (q - p) / kSecondsPerHour;
    p = q;
  }
}

void LedgerBillBuilder::AddUnauthenticated(double delivered_s) {
  ++bill_.unauthenticated_statements;
  bill_.unauthenticated_vcpu_hours += delivered_s / kSecondsPerHour;
}

LedgerBill LedgerBillBuilder::Finish() {
  bill_.hours.reserve(hours_.size());
  for (auto& [hour, totals] : hours_) bill_.hours.push_back({hour, totals});
  hours_.clear();
  return std::move(bill_);
}

}  // namespace resmeter
