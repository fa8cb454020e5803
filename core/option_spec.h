// OptionSpec: one documented, typed, range-checked configuration key.
//
// The config loader (agent/config.h) validates YAML against a table of these;
// meters declare their own options the same way in the registry. Values are
// held as JSON scalars so they can travel into report conditions unchanged.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace resmeter {

enum class OptionType { kBool, kInt, kDouble, kString, kStringList };

struct OptionSpec {
  std::string key;  // relative or dotted path, e.g. "window_seconds"
  OptionType type;
  nlohmann::json default_value;
  std::optional<double> min;  // inclusive bounds for kInt and kDouble
  std::optional<double> max;
  std::vector<std::string> choices;  // allowed values for kString (empty: any)
  std::string help;                  // one line, shown in errors and docs
};

// A validated set of values for one scope (a meter, or the whole config),
// keyed by the spec's key. Lookups of undeclared keys are programming errors
// and abort; every declared key always has a value (its default at least).
class Options {
 public:
  Options() = default;
  explicit Options(nlohmann::json values) : values_(std::move(values)) {}

  bool Bool(const std::string& key) const { return At(key).get<bool>(); }
  int64_t Int(const std::string& key) const { return At(key).get<int64_t>(); }
  double Double(const std::string& key) const { return At(key).get<double>(); }
  std::string String(const std::string& key) const { return At(key).get<std::string>(); }
  std::vector<std::string> Strings(const std::string& key) const {
    return At(key).get<std::vector<std::string>>();
  }
  bool Has(const std::string& key) const { return values_.contains(key); }
  const nlohmann::json& json() const { return values_; }
  // Sets a value (used by the loader and by tests).
  void Set(const std::string& key, nlohmann::json value) { values_[key] = std::move(value); }

 private:
  const nlohmann::json& At(const std::string& key) const;
  nlohmann::json values_ = nlohmann::json::object();
};

}  // namespace resmeter
