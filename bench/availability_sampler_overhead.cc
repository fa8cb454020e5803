// Cost of the CPU availability sampler (meters/cpu/cpu_availability_sampler.h)
// with the agent's default settings: the sampler's own CPU time (every
// challenge thread and the coordinator) over wall time, against the target
// (<= 1 % of one core; the default budget is 0.5 %), and against the
// process's CPU time from getrusage(2) measured over the same run (the
// reference: the sampler must not under-count itself).
// Usage: availability_sampler_overhead [SECONDS=60] [BUDGET_RATIO=0.005]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "meters/cpu/cpu_availability_sampler.h"

namespace {

// User + system CPU seconds of the whole process.
double ProcessCpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 60;
  resmeter::AvailabilitySamplerOptions o;
  if (argc > 2) o.cpu_budget_ratio = std::atof(argv[2]);
  resmeter::Env* env = resmeter::DefaultEnv();
  const double cpu0 = ProcessCpuSeconds();
  const double t0 = env->MonotonicSeconds();
  resmeter::CpuAvailabilitySampler sampler(env, o);
  resmeter::Status s = sampler.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "sampler: %s\n", s.message().c_str());
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const resmeter::AvailabilitySamplerStats st = sampler.Stats();
  sampler.Stop();
  const double wall = env->MonotonicSeconds() - t0;
  const double process_ratio = (ProcessCpuSeconds() - cpu0) / wall;
  std::printf(
      "conditions: %.0f s, budget %.4f cores, warm-up %.3f s + window %.3f s per round, chunk %.4f s\n",
      seconds, o.cpu_budget_ratio, o.warmup_seconds, o.window_seconds, o.chunk_seconds);
  std::printf("rounds %llu, samples %llu, last availability %.3f%s%s\n",
              static_cast<unsigned long long>(st.rounds), static_cast<unsigned long long>(st.samples),
              st.last_availability_ratio,
              st.last_error.empty() ? "" : ", last error: ", st.last_error.c_str());
  std::printf("sampler cpu %.4f s / wall %.2f s = %.5f cores (target <= 0.01: %s)\n", st.cpu_seconds,
              st.wall_seconds, st.cpu_ratio, st.cpu_ratio <= 0.01 ? "met" : "NOT met");
  std::printf("process cpu (getrusage, reference) %.5f cores; sampler / reference = %.3f\n", process_ratio,
              process_ratio > 0 ? st.cpu_ratio / process_ratio : 0.0);
  return st.cpu_ratio <= 0.01 ? 0 : 1;
}
