#include "claims/claim_spec.h"

namespace resmeter {
namespace {

// One piece of a leaf pattern: literal text, or a placeholder with its
// allowed values ("#" = digits, empty = any [a-z0-9_]+).
struct Piece {
  bool placeholder = false;
  std::string text;                 // literal text, or the placeholder's name
  std::vector<std::string> values;  // allowed values; {"#"} = digits
};

std::vector<Piece> Parse(std::string_view pattern) {
  std::vector<Piece> out;
  size_t i = 0;
  while (i < pattern.size()) {
    const size_t open = pattern.find('{', i);
    if (open == std::string_view::npos) {
      out.push_back({false, std::string(pattern.substr(i)), {}});
      break;
    }
    if (open > i) out.push_back({false, std::string(pattern.substr(i, open - i)), {}});
    const size_t close = pattern.find('}', open);
    if (close == std::string_view::npos) {  // malformed: the rest is literal (tests reject it)
      out.push_back({false, std::string(pattern.substr(open)), {}});
      break;
    }
    std::string_view body = pattern.substr(open + 1, close - open - 1);
    Piece p{true, {}, {}};
    const size_t colon = body.find(':');
    p.text = std::string(body.substr(0, colon));
    if (colon != std::string_view::npos) {
      std::string_view rest = body.substr(colon + 1);
      size_t start = 0;
      while (start <= rest.size()) {
        const size_t bar = rest.find('|', start);
        p.values.emplace_back(rest.substr(start, bar == std::string_view::npos ? rest.npos : bar - start));
        if (bar == std::string_view::npos) break;
        start = bar + 1;
      }
    }
    out.push_back(std::move(p));
    i = close + 1;
  }
  return out;
}

bool AllowedValue(const Piece& p, std::string_view v) {
  if (v.empty()) return false;
  if (p.values.size() == 1 && p.values[0] == "#") {
    for (char c : v)
      if (c < '0' || c > '9') return false;
    return true;
  }
  if (!p.values.empty()) {
    for (const auto& a : p.values)
      if (a == v) return true;
    return false;
  }
  for (char c : v) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// Backtracking match of key[pos..] against pieces[i..].
bool MatchFrom(const std::vector<Piece>& pieces, size_t i, std::string_view key, ClaimBindings* b) {
  if (i == pieces.size()) return key.empty();
  const Piece& p = pieces[i];
  if (!p.placeholder) {
    if (key.substr(0, p.text.size()) != p.text) return false;
    return MatchFrom(pieces, i + 1, key.substr(p.text.size()), b);
  }
  for (size_t len = 1; len <= key.size(); ++len) {
    const std::string_view v = key.substr(0, len);
    if (!AllowedValue(p, v)) continue;
    const size_t mark = b ? b->size() : 0;
    if (b) b->emplace_back(p.text, std::string(v));
    if (MatchFrom(pieces, i + 1, key.substr(len), b)) return true;
    if (b) b->resize(mark);
  }
  return false;
}

}  // namespace

const char* ClaimTypeName(ClaimType type) {
  switch (type) {
    case ClaimType::kNumber:
      return "number";
    case ClaimType::kInteger:
      return "integer";
    case ClaimType::kBool:
      return "bool";
    case ClaimType::kString:
      return "string";
    case ClaimType::kObject:
      return "object";
    case ClaimType::kArray:
      return "array";
  }
  return "?";
}

std::vector<std::string> ClaimSpec::Placeholders() const {
  std::vector<std::string> out;
  for (const Piece& p : Parse(Leaf()))
    if (p.placeholder) out.push_back(p.text);
  return out;
}

std::string ExpandClaimKey(const ClaimSpec& spec, const ClaimBindings& bindings) {
  std::string out;
  for (const Piece& p : Parse(spec.Leaf())) {
    if (!p.placeholder) {
      out += p.text;
      continue;
    }
    std::string value = "{" + p.text + "}";  // unbound: stays visible, and undeclared in tests
    for (const auto& [name, v] : bindings)
      if (name == p.text) value = v;
    out += value;
  }
  return out;
}

bool MatchClaimKey(const ClaimSpec& spec, std::string_view key, ClaimBindings* bindings) {
  ClaimBindings local;
  if (!MatchFrom(Parse(spec.Leaf()), 0, key, &local)) return false;
  if (bindings) *bindings = std::move(local);
  return true;
}

bool ClaimHasType(const nlohmann::json& value, ClaimType type) {
  switch (type) {
    case ClaimType::kNumber:
      return value.is_number();
    case ClaimType::kInteger:
      return value.is_number_integer();
    case ClaimType::kBool:
      return value.is_boolean();
    case ClaimType::kString:
      return value.is_string();
    case ClaimType::kObject:
      return value.is_object();
    case ClaimType::kArray:
      return value.is_array();
  }
  return false;
}

const nlohmann::json* FindClaim(const nlohmann::json& claims, const ClaimSpec& spec,
                                const ClaimBindings& bindings) {
  if (!claims.is_object()) return nullptr;
  const std::string key = ExpandClaimKey(spec, bindings);
  if (auto it = claims.find(key); it != claims.end()) return &*it;
  if (!spec.legacy_key.empty()) {
    if (auto it = claims.find(std::string(spec.legacy_key)); it != claims.end()) return &*it;
  }
  return nullptr;
}

}  // namespace resmeter
