#include "claims/claim_check.h"

namespace resmeter {
namespace {

// The declaration `key` is an instance of, among specs that are (or are
// not) list members of `list`; nullptr when none.
const ClaimSpec* Declaration(std::span<const ClaimSpec* const> specs, const std::string& key,
                             std::string_view list) {
  for (const ClaimSpec* s : specs) {
    if (s->IsElement() != !list.empty()) continue;
    if (!list.empty() && s->List() != list) continue;
    if (MatchClaimKey(*s, key)) return s;
  }
  return nullptr;
}

void CheckObject(std::span<const ClaimSpec* const> specs, const nlohmann::json& object, std::string_view list,
                 std::vector<std::string>* out) {
  const std::string prefix = list.empty() ? "" : std::string(list) + "[].";
  for (const auto& [key, value] : object.items()) {
    const ClaimSpec* s = Declaration(specs, key, list);
    if (s == nullptr) {
      out->push_back("undeclared claim " + prefix + key);
      continue;
    }
    if (!ClaimHasType(value, s->type)) {
      out->push_back("claim " + prefix + key + " is " + std::string(value.type_name()) + ", declared " +
                     ClaimTypeName(s->type));
    }
    if (!list.empty() || !value.is_array()) continue;
    bool members_declared = false;
    for (const ClaimSpec* m : specs) members_declared |= m->IsElement() && m->List() == key;
    if (!members_declared) continue;
    for (const nlohmann::json& element : value) {
      if (!element.is_object()) {
        out->push_back("claim " + key + " has an element that is not an object");
        continue;
      }
      CheckObject(specs, element, s->key, out);
    }
  }
}

}  // namespace

std::vector<std::string> CheckClaimsAgainstDeclarations(std::span<const ClaimSpec* const> specs,
                                                        const nlohmann::json& claims) {
  std::vector<std::string> out;
  if (!claims.is_object()) return {"claims is not an object"};
  CheckObject(specs, claims, "", &out);
  return out;
}

}  // namespace resmeter
