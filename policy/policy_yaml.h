// PolicyYaml: typed reads of the values in a YAML policy file, shared by the
// policy parser's sections. Every failure is InvalidArgument with one line
// "SOURCE:LINE: message" naming the key (control characters escaped).
// Immutable after construction; thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "core/result.h"

namespace resmeter {

// `message` with control characters escaped, so an error stays one line.
std::string PolicyOneLine(const std::string& message);

class PolicyYaml {
 public:
  // `source` names the policy file in every message.
  explicit PolicyYaml(std::string source);

  const std::string& source() const { return source_; }
  // The 1-based line of a node (0: unknown).
  static int Line(const YAML::Node& n);
  // "SOURCE:LINE: message" at the node's line, or at `line`.
  Status Error(const YAML::Node& n, const std::string& message) const;
  Status ErrorAt(int line, const std::string& message) const;
  // "'text'", "a list", "a mapping" or "nothing", for messages.
  static std::string Describe(const YAML::Node& n);

  // A scalar.
  Result<std::string> String(const YAML::Node& n, const std::string& key) const;
  // A finite number written in full (no trailing text).
  Result<double> NumberOf(const YAML::Node& n, const std::string& key) const;
  // A number greater than 0.
  Result<double> Positive(const YAML::Node& n, const std::string& key) const;
  // true or false.
  Result<bool> Bool(const YAML::Node& n, const std::string& key) const;
  // A list of scalars.
  Result<std::vector<std::string>> StringList(const YAML::Node& n, const std::string& key) const;
  // One hex value of one of `sizes` bytes, lowercased.
  Result<std::string> Hex(const YAML::Node& n, const std::string& key, std::vector<size_t> sizes) const;
  // A non-empty list of such values (a single value is a list of one).
  Result<std::vector<std::string>> HexList(const YAML::Node& n, const std::string& key,
                                           const std::vector<size_t>& sizes) const;
  // A whole number in [lo, hi].
  Result<int> WholeNumber(const YAML::Node& n, const std::string& key, int lo, int hi) const;

 private:
  std::string source_;
};

}  // namespace resmeter
