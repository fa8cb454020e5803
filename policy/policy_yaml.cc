#include "policy/policy_yaml.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "core/strings.h"

namespace resmeter {

std::string PolicyOneLine(const std::string& message) {
  std::string out;
  for (char c : message) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

PolicyYaml::PolicyYaml(std::string source) : source_(std::move(source)) {}

Status PolicyYaml::ErrorAt(int line, const std::string& message) const {
  std::string where = source_;
  if (line > 0) where.append(":").append(std::to_string(line));
  return Status::InvalidArgument(PolicyOneLine(where.append(": ").append(message)));
}

int PolicyYaml::Line(const YAML::Node& n) { return n.Mark().line < 0 ? 0 : n.Mark().line + 1; }

Status PolicyYaml::Error(const YAML::Node& n, const std::string& message) const {
  return ErrorAt(Line(n), message);
}

std::string PolicyYaml::Describe(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "nothing";
}

Result<std::string> PolicyYaml::String(const YAML::Node& n, const std::string& key) const {
  if (!n.IsScalar()) return Error(n, "key '" + key + "': expected a string, got " + Describe(n));
  return n.Scalar();
}

Result<double> PolicyYaml::NumberOf(const YAML::Node& n, const std::string& key) const {
  const std::string text = n.IsScalar() ? n.Scalar() : "";
  size_t used = 0;
  double v = 0;
  bool ok = !text.empty() && !std::isspace(static_cast<unsigned char>(text[0]));
  if (ok) {
    try {
      v = std::stod(text, &used);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok || used != text.size() || !std::isfinite(v)) {
    return Error(n, "key '" + key + "': expected a number, got " + Describe(n));
  }
  return v;
}

Result<double> PolicyYaml::Positive(const YAML::Node& n, const std::string& key) const {
  RESMETER_ASSIGN_OR_RETURN(double v, NumberOf(n, key));
  if (v <= 0) return Error(n, "key '" + key + "': must be greater than 0, got " + n.Scalar());
  return v;
}

Result<bool> PolicyYaml::Bool(const YAML::Node& n, const std::string& key) const {
  if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) return n.Scalar() == "true";
  return Error(n, "key '" + key + "': expected true or false, got " + Describe(n));
}

Result<std::vector<std::string>> PolicyYaml::StringList(const YAML::Node& n, const std::string& key) const {
  if (!n.IsSequence()) return Error(n, "key '" + key + "': expected a list, got " + Describe(n));
  std::vector<std::string> out;
  for (const auto& item : n) {
    RESMETER_ASSIGN_OR_RETURN(std::string s, String(item, key + "[]"));
    out.push_back(std::move(s));
  }
  return out;
}

// One hex value of one of `sizes` bytes, normalized to lowercase.
Result<std::string> PolicyYaml::Hex(const YAML::Node& n, const std::string& key,
                                    std::vector<size_t> sizes) const {
  RESMETER_ASSIGN_OR_RETURN(std::string m, String(n, key));
  for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::optional<std::string> bytes = HexDecode(m);
  if (m.empty() || !bytes) return Error(n, "key '" + key + "': '" + m + "' is not hex");
  if (std::find(sizes.begin(), sizes.end(), bytes->size()) == sizes.end()) {
    std::string want;
    for (size_t i = 0; i < sizes.size(); ++i) {
      want += (i == 0 ? "" : i + 1 == sizes.size() ? " or " : ", ") + std::to_string(sizes[i]);
    }
    return Error(n, "key '" + key + "': expected " + want + " bytes (" + std::to_string(2 * sizes.front()) +
                        (sizes.size() > 1 ? "..." : "") + " hex digits), got " +
                        std::to_string(bytes->size()) + (bytes->size() == 1 ? " byte" : " bytes"));
  }
  return m;
}

// A list of hex values (a single value is a list of one), each of one of `sizes` bytes.
Result<std::vector<std::string>> PolicyYaml::HexList(const YAML::Node& n, const std::string& key,
                                                     const std::vector<size_t>& sizes) const {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    RESMETER_ASSIGN_OR_RETURN(std::string m, Hex(n, key, sizes));
    out.push_back(std::move(m));
    return out;
  }
  if (!n.IsSequence() || n.size() == 0)
    return Error(n, "key '" + key + "': expected a non-empty list of hex values, got " + Describe(n));
  for (const auto& item : n) {
    RESMETER_ASSIGN_OR_RETURN(std::string m, Hex(item, key + "[]", sizes));
    out.push_back(std::move(m));
  }
  return out;
}

// A whole number in [lo, hi].
Result<int> PolicyYaml::WholeNumber(const YAML::Node& n, const std::string& key, int lo, int hi) const {
  RESMETER_ASSIGN_OR_RETURN(double v, NumberOf(n, key));
  if (v < lo || v > hi || v != std::floor(v)) {
    return Error(n, "key '" + key + "': expected a whole number from " + std::to_string(lo) + " to " +
                        std::to_string(hi) + ", got " + n.Scalar());
  }
  return static_cast<int>(v);
}

}  // namespace resmeter
