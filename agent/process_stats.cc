#include "agent/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "agent/metric_family_builder.h"

namespace resmeter {
namespace {

// Pages (total, resident) from /proc/self/statm.
bool Statm(long* total, long* resident) {
  FILE* f = std::fopen("/proc/self/statm", "re");
  if (!f) return false;
  const int n = std::fscanf(f, "%ld %ld", total, resident);
  std::fclose(f);
  return n == 2;
}

}  // namespace

double ProcessCpuSeconds() {
  struct rusage ru;
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

double ProcessResidentBytes() {
  long total = 0, resident = 0;
  if (!Statm(&total, &resident)) return -1;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double ProcessVirtualBytes() {
  long total = 0, resident = 0;
  if (!Statm(&total, &resident)) return -1;
  return static_cast<double>(total) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double ProcessOpenFds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return -1;
  double n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // the directory's own descriptor
}

double ProcessMaxFds() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return -1;
  return static_cast<double>(rl.rlim_cur);
}

double ProcessStartTimeSeconds() {
  // starttime (field 22) is in clock ticks after boot; fields after the
  // command name, which may hold spaces, start after its last ')'.
  std::ifstream stat_file("/proc/self/stat");
  std::string line;
  if (!std::getline(stat_file, line)) return -1;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(line.substr(paren + 1));
  std::string field;
  unsigned long long start_ticks = 0;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) start_ticks = std::strtoull(field.c_str(), nullptr, 10);
  }
  if (start_ticks == 0) return -1;
  std::ifstream proc_stat("/proc/stat");
  double btime = -1;
  while (std::getline(proc_stat, line)) {
    if (line.rfind("btime ", 0) == 0) btime = std::strtod(line.c_str() + 6, nullptr);
  }
  const long hz = ::sysconf(_SC_CLK_TCK);
  if (btime <= 0 || hz <= 0) return -1;
  return btime + static_cast<double>(start_ticks) / static_cast<double>(hz);
}

std::vector<prometheus::MetricFamily> ProcessFamilies() {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  out.push_back(SingleSample("process_cpu_seconds_total",
                             "CPU seconds the agent process used (user + system)", MetricType::Counter,
                             ProcessCpuSeconds()));
  auto gauge = [&out](const char* name, const char* help, double v) {
    if (v >= 0) out.push_back(SingleSample(name, help, MetricType::Gauge, v));
  };
  gauge("process_resident_memory_bytes", "Resident memory of the agent process, bytes",
        ProcessResidentBytes());
  gauge("process_virtual_memory_bytes", "Virtual memory of the agent process, bytes", ProcessVirtualBytes());
  gauge("process_open_fds", "File descriptors the agent process has open", ProcessOpenFds());
  gauge("process_max_fds", "The agent process's limit on open file descriptors (RLIMIT_NOFILE)",
        ProcessMaxFds());
  gauge("process_start_time_seconds", "When the agent process started, Unix seconds",
        ProcessStartTimeSeconds());
  return out;
}

}  // namespace resmeter
