// ClaimSpec: the declaration of one claim a meter may put in its report
// submod: key, unit, JSON type, one-line meaning, and the names other parts
// use for the same number (the policy claim, the Prometheus gauge).
//
// Why: claim keys used to be a string contract rebuilt by every reader, so a
// rename compiled and silently turned a policy clause or a bill input into
// "unavailable". Meters now set claims through their spec (SetClaim) and
// readers find them through the same spec (FindClaim), and tests check every
// emitted key, every reader and the README against the declarations
// (tests/unit/declared_claims_test.cc).
//
// Key patterns:
//   "vcpus"                                  a plain key
//   "{kernel:copy|scale|add|triad}_bytes_per_second"
//                                            a family: each {name} is a label;
//                                            ":a|b" lists its values, ":#" means
//                                            digits, none means [a-z0-9_]+
//   "targets[].rtt_p99_seconds"              a member of each object of the
//                                            array claim "targets"
// Pure data and string functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace resmeter {

enum class ClaimType { kNumber, kInteger, kBool, kString, kObject, kArray };
const char* ClaimTypeName(ClaimType type);

struct ClaimSpec {
  std::string_view meter;  // "cpu.topology"
  std::string_view key;    // pattern, see above
  std::string_view
      unit;  // "count", "bytes", "seconds", "hertz", "ratio", "bits/s", "bytes/s", "" (text, flags)
  ClaimType type;
  std::string_view meaning;             // one line, for the README, --help and the metric's HELP
  std::string_view policy_name = {};    // the policy claim reading it ("cpu.vcpus"), if any
  std::string_view metric = {};         // the Prometheus gauge exporting it, if any
  std::string_view legacy_key = {};     // the key older agents wrote; readers accept it
  std::string_view element_label = {};  // for "list[].member" gauges: "label=member" of the element

  bool IsElement() const { return key.find("[].") != std::string_view::npos; }
  // "targets" for "targets[].rtt_p99_seconds", else the whole key.
  std::string_view List() const { return IsElement() ? key.substr(0, key.find("[].")) : key; }
  // "rtt_p99_seconds" for "targets[].rtt_p99_seconds", else the whole key.
  std::string_view Leaf() const { return IsElement() ? key.substr(key.find("[].") + 3) : key; }
  // The placeholder names of the leaf, in order ("kernel").
  std::vector<std::string> Placeholders() const;
  // "cpu.topology vcpus".
  std::string Name() const { return std::string(meter) + " " + std::string(key); }
};

// Placeholder name -> value, e.g. {{"workload", "rand_read"}, {"queue_depth", "32"}}.
using ClaimBindings = std::vector<std::pair<std::string, std::string>>;

// The concrete leaf key for `bindings` ("rand_read_qd32_ios_per_second").
std::string ExpandClaimKey(const ClaimSpec& spec, const ClaimBindings& bindings = {});
// True when `key` is an instance of the spec's leaf pattern; fills *bindings.
bool MatchClaimKey(const ClaimSpec& spec, std::string_view key, ClaimBindings* bindings = nullptr);
// True when `value` has the declared JSON type (an integer is also a number).
bool ClaimHasType(const nlohmann::json& value, ClaimType type);

// Sets the claim in `claims` (a submod's claims object, or one element of a
// list claim for "list[].member" specs).
template <class V>
void SetClaim(nlohmann::json& claims, const ClaimSpec& spec, V&& value) {
  claims[std::string(spec.Leaf())] = std::forward<V>(value);
}
template <class V>
void SetClaim(nlohmann::json& claims, const ClaimSpec& spec, const ClaimBindings& bindings, V&& value) {
  claims[ExpandClaimKey(spec, bindings)] = std::forward<V>(value);
}

// The claim's value in `claims` (the key, else the legacy key), or nullptr.
const nlohmann::json* FindClaim(const nlohmann::json& claims, const ClaimSpec& spec,
                                const ClaimBindings& bindings = {});

}  // namespace resmeter
