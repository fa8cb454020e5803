#include "agent/cli.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "agent/commands.h"
#include "core/strings.h"
#include "core/temp_path_registry.h"
#include "core/version.h"

namespace resmeter {

namespace {
constexpr const char* kSystemConfigPath = "/etc/resmeter/resmeter.yaml";
constexpr size_t kMaxInputBytes = 64 * 1024 * 1024;
}  // namespace

Result<Config> CliGlobals::LoadConfig() const {
  Config config;
  if (!config_path.empty()) {
    RESMETER_ASSIGN_OR_RETURN(config, LoadConfigFile(config_path));
  } else if (::access(kSystemConfigPath, F_OK) == 0) {
    RESMETER_ASSIGN_OR_RETURN(config, LoadConfigFile(kSystemConfigPath));
  } else {
    config = DefaultConfig();
  }
  for (const auto& s : sets) RESMETER_RETURN_IF_ERROR(ApplyConfigOverride(config, s));
  auto flag = [&](const std::string& value, const char* key, const char* name) -> Status {
    if (value.empty()) return Status::Ok();
    // Flags carry plain strings; quote them so YAML does not reinterpret them.
    nlohmann::json quoted = value;
    return SetConfigValue(config, key, quoted.dump(), name);
  };
  RESMETER_RETURN_IF_ERROR(flag(state_dir, "state_dir", "--state-dir"));
  RESMETER_RETURN_IF_ERROR(flag(proc_root, "paths.proc_root", "--proc-root"));
  RESMETER_RETURN_IF_ERROR(flag(sys_root, "paths.sys_root", "--sys-root"));
  return config;
}

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "resmeter: %s\n", message.c_str());
  return code;
}

Result<std::string> ReadInputFile(const std::string& path) {
  std::string data;
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    data = ss.str();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::NotFound(path + ": cannot open");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return Status::IOError(path + ": read error");
    data = ss.str();
  }
  if (data.size() > kMaxInputBytes) return Status::InvalidArgument(path + ": larger than 64 MiB");
  return data;
}

Result<double> ParseTimeArgument(const std::string& text) {
  if (auto v = ParseDouble(text)) return *v;
  struct tm tm = {};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end && (std::string(end) == "Z" || std::string(end).empty())) return static_cast<double>(timegm(&tm));
  return Status::InvalidArgument("time '" + text + "': expected Unix seconds or YYYY-MM-DDTHH:MM:SSZ");
}

int RunCli(int argc, char** argv) {
  // Meters register scratch files (disk.io); SIGINT/SIGTERM/SIGHUP remove them, then re-raise.
  if (Status s = InstallTempPathCleanupOnSignals(); !s.ok()) return Fail(kExitUsage, s.message());
  CLI::App app{"resmeter: measure the resources a VM really gets, and sign what was measured"};
  app.set_version_flag("--version", std::string(SoftwareName()) + " " + SoftwareVersion());
  app.require_subcommand(1);
  app.fallthrough();
  CliGlobals globals;
  app.add_option("--config", globals.config_path, "YAML config file (default /etc/resmeter/resmeter.yaml if present)");
  app.add_option("--state-dir", globals.state_dir, "directory for the key and ledger (default /var/lib/resmeter)");
  app.add_option("--proc-root", globals.proc_root, "root of procfs (default /proc)");
  app.add_option("--sys-root", globals.sys_root, "root of sysfs (default /sys)");
  app.add_option("--set", globals.sets, "override one config key: KEY=VALUE (repeatable)")->allow_extra_args(false);

  int exit_code = kExitOk;
  RegisterProbeCommand(app, globals, &exit_code);
  RegisterVerifyCommand(app, globals, &exit_code);
  RegisterKeyCommand(app, globals, &exit_code);
  RegisterAgentCommand(app, globals, &exit_code);
  RegisterLedgerCommand(app, globals, &exit_code);
  RegisterPeerCommand(app, globals, &exit_code);
  RegisterIdentityCommand(app, globals, &exit_code);
  RegisterEvidenceCommand(app, globals, &exit_code);
  RegisterClaimsCommand(app, globals, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    return Fail(kExitUsage, msg + " (see resmeter --help)");
  }
  return exit_code;
}

}  // namespace resmeter
