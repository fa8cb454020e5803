// The `time` claim: the chronyd-based time assessment, configured by time.*.
#include "timesource/time_claim.h"

#include "timesource/time_assessment.h"

namespace resmeter {

TimeSourceOptions TimeSourceOptionsFromConfig(const Options& global_config) {
  TimeSourceOptions o;
  const Options& c = global_config;
  if (c.Has("time.chrony_socket")) o.chrony_socket = c.String("time.chrony_socket");
  if (c.Has("time.client_socket_dir")) o.client_socket_dir = c.String("time.client_socket_dir");
  if (c.Has("time.max_error_bound_seconds"))
    o.max_error_bound_seconds = c.Double("time.max_error_bound_seconds");
  if (c.Has("time.timeout_seconds")) o.timeout_seconds = c.Double("time.timeout_seconds");
  if (c.Has("time.attempts")) o.attempts = static_cast<int>(c.Int("time.attempts"));
  if (c.Has("time.max_clock_error_ppm")) o.max_clock_error_ppm = c.Double("time.max_clock_error_ppm");
  return o;
}

nlohmann::json CurrentTimeClaim(const Options& global_config, double wall_seconds) {
  nlohmann::json claim = AssessTimeClaim(TimeSourceOptionsFromConfig(global_config), DefaultEnv());
  claim["wall_unix_seconds"] = wall_seconds;
  return claim;
}

}  // namespace resmeter
