#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "core/yaml_checks.h"

namespace resmeter {
namespace {

const OptionSpec* FindSpec(const std::vector<OptionSpec>& specs, const std::string& key) {
  for (const auto& s : specs) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

// "file:line: " for a YAML node, or "origin: " when the node has no mark.
std::string Where(const std::string& source, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return source + ": ";
  return source + ":" + std::to_string(mark.line + 1) + ": ";
}

std::string Describe(const YAML::Node& node) {
  if (node.IsScalar())
    return IsValidUtf8(node.Scalar()) ? "'" + node.Scalar() + "'" : "bytes that are not UTF-8";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

std::string FormatBound(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  std::ostringstream os;
  os << v;
  return os.str();
}

// Converts a YAML node to a JSON value of the spec's type, checking range and choices.
Result<nlohmann::json> ConvertValue(const OptionSpec& spec, const YAML::Node& node, const std::string& where,
                                    const std::string& full_key) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument(where + "key '" + full_key + "': expected " + what + ", got " + Describe(node));
  };
  auto check_range = [&](double v) -> Status {
    if ((spec.min && v < *spec.min) || (spec.max && v > *spec.max)) {
      return Status::InvalidArgument(where + "key '" + full_key + "': " + FormatBound(v) + " is out of range [" +
                                     (spec.min ? FormatBound(*spec.min) : "-inf") + ", " +
                                     (spec.max ? FormatBound(*spec.max) : "inf") + "]");
    }
    return Status::Ok();
  };
  switch (spec.type) {
    case OptionType::kBool: {
      if (!node.IsScalar()) return bad("true or false");
      const std::string& s = node.Scalar();
      if (s == "true") return nlohmann::json(true);
      if (s == "false") return nlohmann::json(false);
      return bad("true or false");
    }
    case OptionType::kInt: {
      if (!node.IsScalar()) return bad("an integer");
      auto v = ParseInt64(node.Scalar());
      if (!v) return bad("an integer");
      RESMETER_RETURN_IF_ERROR(check_range(static_cast<double>(*v)));
      return nlohmann::json(*v);
    }
    case OptionType::kDouble: {
      if (!node.IsScalar()) return bad("a number");
      auto v = ParseDouble(node.Scalar());
      if (!v) return bad("a number");
      RESMETER_RETURN_IF_ERROR(check_range(*v));
      return nlohmann::json(*v);
    }
    case OptionType::kString: {
      if (!node.IsScalar()) return bad("a string");
      const std::string& s = node.Scalar();
      // Config values end up in JSON (reports, logs), which cannot hold invalid UTF-8.
      if (!IsValidUtf8(s)) return bad("a UTF-8 string");
      if (!spec.choices.empty()) {
        bool found = false;
        std::string list;
        for (const auto& c : spec.choices) {
          found |= c == s;
          list += (list.empty() ? "" : ", ") + c;
        }
        if (!found) return bad("one of " + list);
      }
      return nlohmann::json(s);
    }
    case OptionType::kStringList: {
      if (node.IsNull()) return nlohmann::json::array();
      if (!node.IsSequence()) return bad("a list of strings");
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& item : node) {
        if (!item.IsScalar() || !IsValidUtf8(item.Scalar())) return bad("a list of UTF-8 strings");
        arr.push_back(item.Scalar());
      }
      return arr;
    }
  }
  return bad("a value");
}

// The meter whose name prefixes `rest` ("cpu.time.window_seconds" -> cpu.time).
const ConfigurableMeter* MeterForKey(const ConfigurableMeters& meters, const std::string& rest,
                                     std::string* option_key) {
  const ConfigurableMeter* best = nullptr;
  for (const auto& m : meters) {
    if (StartsWith(rest, m.name + ".") && (!best || m.name.size() > best->name.size())) {
      best = &m;
      *option_key = rest.substr(m.name.size() + 1);
    }
  }
  return best;
}

bool IsGlobalSection(const std::string& path) {
  for (const auto& s : GlobalSchema()) {
    if (StartsWith(s.key, path + ".")) return true;
  }
  return false;
}

const ConfigurableMeter* FindConfigurableMeter(const ConfigurableMeters& meters, const std::string& name) {
  for (const auto& m : meters) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

Status ParseMeters(Config& config, const YAML::Node& node, const std::string& source,
                   const ConfigurableMeters& meters) {
  if (meters.empty()) return Status::Ok();  // a program that runs no meters (resmeter-verify)
  if (!node.IsMap()) return Status::InvalidArgument(Where(source, node) + "key 'meters': expected a mapping");
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    const ConfigurableMeter* info = FindConfigurableMeter(meters, name);
    if (!info) return Status::InvalidArgument(Where(source, entry.first) + "unknown meter 'meters." + name + "'");
    if (entry.second.IsNull()) continue;
    if (!entry.second.IsMap()) {
      return Status::InvalidArgument(Where(source, entry.second) + "key 'meters." + name + "': expected a mapping");
    }
    const auto specs = MeterSchema(*info);
    for (const auto& opt : entry.second) {
      const std::string key = opt.first.Scalar();
      const std::string full = "meters." + name + "." + key;
      const OptionSpec* spec = FindSpec(specs, key);
      if (!spec) return Status::InvalidArgument(Where(source, opt.first) + "unknown key '" + full + "'");
      RESMETER_ASSIGN_OR_RETURN(auto value, ConvertValue(*spec, opt.second, Where(source, opt.second), full));
      config.meters[name].Set(key, std::move(value));
    }
  }
  return Status::Ok();
}

Status ParseSection(Config& config, const YAML::Node& node, const std::string& prefix, const std::string& source,
                    const ConfigurableMeters& meters) {
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) return Status::InvalidArgument(Where(source, entry.first) + "keys must be strings");
    const std::string key = entry.first.Scalar();
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (path == "meters") {
      RESMETER_RETURN_IF_ERROR(ParseMeters(config, entry.second, source, meters));
    } else if (const OptionSpec* spec = FindSpec(GlobalSchema(), path)) {
      RESMETER_ASSIGN_OR_RETURN(auto value, ConvertValue(*spec, entry.second, Where(source, entry.second), path));
      config.global.Set(path, std::move(value));
    } else if (IsGlobalSection(path)) {
      if (!entry.second.IsMap()) {
        return Status::InvalidArgument(Where(source, entry.second) + "key '" + path + "': expected a mapping");
      }
      RESMETER_RETURN_IF_ERROR(ParseSection(config, entry.second, path, source, meters));
    } else {
      return Status::InvalidArgument(Where(source, entry.first) + "unknown key '" + path + "'");
    }
  }
  return Status::Ok();
}

}  // namespace

std::vector<OptionSpec> MeterSchema(const ConfigurableMeter& info) {
  std::vector<OptionSpec> specs = {
      {"enabled", OptionType::kBool, info.enabled_by_default, {}, {}, {}, "run this meter"},
      {"timeout_seconds", OptionType::kDouble, info.default_timeout_seconds, 0.1, 86400, {},
       "the framework stops the meter after this long"},
  };
  specs.insert(specs.end(), info.options.begin(), info.options.end());
  return specs;
}

Config DefaultConfig(const ConfigurableMeters& meters) {
  Config config;
  for (const auto& spec : GlobalSchema()) config.global.Set(spec.key, spec.default_value);
  for (const auto& info : meters) {
    Options& opts = config.meters[info.name];
    for (const auto& spec : MeterSchema(info)) opts.Set(spec.key, spec.default_value);
  }
  return config;
}

Result<Config> ParseConfig(const std::string& yaml_text, const std::string& source,
                           const ConfigurableMeters& meters) {
  Config config = DefaultConfig(meters);
  config.source = source;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) return config;  // an empty file means all defaults
  if (!root.IsMap()) return Status::InvalidArgument(Where(source, root) + "expected a mapping of keys at the top");
  try {
    RESMETER_RETURN_IF_ERROR(CheckNoDuplicateKeys(root, source));  // yaml-cpp would keep the first silently
    RESMETER_RETURN_IF_ERROR(ParseSection(config, root, "", source, meters));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  return config;
}

Result<Config> LoadConfigFile(const std::string& path, const ConfigurableMeters& meters) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("config file " + path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("config file " + path + ": read error");
  return ParseConfig(ss.str(), path, meters);
}

Status SetConfigValue(Config& config, const std::string& key, const std::string& yaml_value,
                      const std::string& origin, const ConfigurableMeters& meters) {
  YAML::Node node;
  try {
    node = YAML::Load(yaml_value);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(origin + ": invalid value for '" + key + "': " + e.msg);
  }
  const std::string where = origin + ": ";
  if (StartsWith(key, "meters.")) {
    std::string option_key;
    if (meters.empty()) return Status::InvalidArgument(where + "'" + key + "': this program runs no meters");
    const ConfigurableMeter* info = MeterForKey(meters, key.substr(7), &option_key);
    if (!info) return Status::InvalidArgument(where + "unknown meter in key '" + key + "'");
    const auto specs = MeterSchema(*info);
    const OptionSpec* spec = FindSpec(specs, option_key);
    if (!spec) return Status::InvalidArgument(where + "unknown key '" + key + "'");
    RESMETER_ASSIGN_OR_RETURN(auto value, ConvertValue(*spec, node, where, key));
    config.meters[info->name].Set(option_key, std::move(value));
    return Status::Ok();
  }
  const OptionSpec* spec = FindSpec(GlobalSchema(), key);
  if (!spec) return Status::InvalidArgument(where + "unknown key '" + key + "'");
  RESMETER_ASSIGN_OR_RETURN(auto value, ConvertValue(*spec, node, where, key));
  config.global.Set(key, std::move(value));
  return Status::Ok();
}

Status ApplyConfigOverride(Config& config, const std::string& assignment, const ConfigurableMeters& meters) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::InvalidArgument("--set " + assignment + ": expected KEY=VALUE");
  }
  return SetConfigValue(config, assignment.substr(0, eq), assignment.substr(eq + 1), "--set " + assignment, meters);
}

}  // namespace resmeter
