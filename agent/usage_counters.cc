#include "agent/usage_counters.h"

#include <algorithm>

#include "agent/metric_family_builder.h"
#include "ledger/ledger_bill.h"

namespace resmeter {

void UsageCounters::Add(const LedgerUsage& u) {
  const double duration = std::max(0.0, u.end_unix_seconds - u.start_unix_seconds);
  MeasuredAvailability m;
  m.samples = u.availability.samples;
  m.ratio = u.availability.measured_ratio;
  m.vcpus = u.availability.vcpus;
  const StatementCharge c = ChargeStatement(duration, u.vcpu_delivered_seconds, u.vcpu_stolen_seconds, m);
  ++statements;
  metered_seconds += duration;
  vcpu_seconds += c.delivered_vcpu_seconds;
  vcpu_stolen_seconds += u.vcpu_stolen_seconds;
  vcpu_capacity_seconds += c.capacity_vcpu_seconds;
  vcpu_measured_loss_seconds += c.measured_loss_vcpu_seconds;
  if (c.measured) availability_measured_seconds += duration;
  memory_gib_seconds += u.memory_gib_seconds;
  gpu_seconds += u.gpu_seconds;
  if (!u.time_trusted) untrusted_time_seconds += duration;
}

std::vector<prometheus::MetricFamily> UsageCounterFamilies(const UsageCounters& c) {
  using prometheus::MetricType;
  // Every HELP says which `ledger audit` figure the counter's increase() equals.
  const char* kSuffix =
      " (increase() over a window = ledger audit's figure x 3600 for the statements "
      "appended in it; counts from agent start)";
  auto counter = [&](const char* name, const std::string& help, double v) {
    return SingleSample(name, help + kSuffix, MetricType::Counter, v);
  };
  return {
      SingleSample("resmeter_usage_statements_total",
                   "Usage statements appended to the ledger since the agent started", MetricType::Counter,
                   static_cast<double>(c.statements)),
      counter("resmeter_usage_metered_seconds_total",
              "Wall seconds covered by usage statements: covered_hours", c.metered_seconds),
      counter("resmeter_usage_vcpu_seconds_total",
              "Delivered vCPU-seconds as the ledger bills them (period x vCPUs x measured availability where "
              "sampled, else period x vCPUs - reported steal): delivered_vcpu_hours",
              c.vcpu_seconds),
      counter("resmeter_usage_vcpu_stolen_seconds_total",
              "vCPU-seconds of steal the guest kernel reported: stolen_vcpu_hours", c.vcpu_stolen_seconds),
      counter("resmeter_usage_vcpu_capacity_seconds_total",
              "vCPU-seconds the VM could have had (period x vCPUs); delivered / capacity is the "
              "availability",
              c.vcpu_capacity_seconds),
      counter("resmeter_usage_vcpu_measured_loss_seconds_total",
              "vCPU-seconds the availability challenge measured as missing: measured_loss_vcpu_hours",
              c.vcpu_measured_loss_seconds),
      counter("resmeter_usage_availability_measured_seconds_total",
              "Metered seconds billed from measured availability rather than reported steal: measured_hours",
              c.availability_measured_seconds),
      counter("resmeter_usage_memory_gib_seconds_total",
              "Memory delivered, GiB x seconds (MemTotal held between measurements): memory_gib_hours",
              c.memory_gib_seconds),
      counter("resmeter_usage_gpu_seconds_total", "GPUs present x seconds: gpu_hours", c.gpu_seconds),
      counter("resmeter_usage_untrusted_time_seconds_total",
              "Metered seconds whose time claim was not trusted: untrusted_time_hours",
              c.untrusted_time_seconds),
  };
}

}  // namespace resmeter
