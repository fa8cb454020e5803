#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli_app.h"
#include "cli/commands.h"
#include "core/strings.h"
#include "core/version.h"

namespace resmeter {

namespace {
constexpr const char* kSystemConfigPath = "/etc/resmeter/resmeter.yaml";
constexpr size_t kMaxInputBytes = 64 * 1024 * 1024;
}  // namespace

Result<Config> CliGlobals::LoadConfig() const {
  static const ConfigurableMeters kNone;
  const ConfigurableMeters& known = meters ? *meters : kNone;
  Config config;
  if (!config_path.empty()) {
    RESMETER_ASSIGN_OR_RETURN(config, LoadConfigFile(config_path, known));
  } else if (::access(kSystemConfigPath, F_OK) == 0) {
    RESMETER_ASSIGN_OR_RETURN(config, LoadConfigFile(kSystemConfigPath, known));
  } else {
    config = DefaultConfig(known);
  }
  for (const auto& s : sets) RESMETER_RETURN_IF_ERROR(ApplyConfigOverride(config, s, known));
  auto flag = [&](const std::string& value, const char* key, const char* name) -> Status {
    if (value.empty()) return Status::Ok();
    nlohmann::json quoted = value;
    return SetConfigValue(config, key, quoted.dump(), name, known);
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

void AddConfigOptions(CLI::App& app, CliGlobals& globals) {
  app.set_version_flag("--version", std::string(SoftwareName()) + " " + SoftwareVersion());
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--config", globals.config_path, "YAML config file (default /etc/resmeter/resmeter.yaml if present)");
  app.add_option("--set", globals.sets, "override one config key: KEY=VALUE (repeatable)")->allow_extra_args(false);
  app.add_option("--state-dir", globals.state_dir, "directory for the key and ledger (default /var/lib/resmeter)");
}

int ParseAndRun(CLI::App& app, int argc, char** argv, const int& exit_code) {
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
    return Fail(kExitUsage, msg + " (see " + app.get_name() + " --help)");
  }
  return exit_code;
}

}  // namespace resmeter
