// UsageCounters: running totals of what the agent's usage statements bill,
// since the agent started, for Prometheus counters
// (resmeter_usage_*_total). Each appended statement adds its whole period
// with the bill's own arithmetic (ChargeStatement, reporter/ledger_bill.h),
// so increase() over a window equals `ledger audit`'s totals for the
// statements appended in it (within one period at each end: a statement
// counts when it is appended, at its period's end).
//
// A plain value type: the recorder owns one and publishes copies through
// AgentState's LedgerHead.
#pragma once

#include <prometheus/metric_family.h>

#include <cstdint>
#include <vector>

#include "ledger/ledger_statement.h"

namespace resmeter {

struct UsageCounters {
  uint64_t statements = 0;                   // usage statements appended
  double metered_seconds = 0;                // wall seconds the statements cover
  double vcpu_seconds = 0;                   // delivered vCPU-seconds as billed
  double vcpu_stolen_seconds = 0;            // steal the guest kernel reported
  double vcpu_capacity_seconds = 0;          // vCPUs x seconds (see StatementCharge)
  double vcpu_measured_loss_seconds = 0;     // capacity the challenge rounds did not get
  double availability_measured_seconds = 0;  // metered seconds billed from measured availability
  double memory_gib_seconds = 0;
  double gpu_seconds = 0;
  double untrusted_time_seconds = 0;  // metered seconds whose time claim was not trusted

  // Adds one appended usage statement.
  void Add(const LedgerUsage& u);
};

// The resmeter_usage_* counter families.
std::vector<prometheus::MetricFamily> UsageCounterFamilies(const UsageCounters& c);

}  // namespace resmeter
