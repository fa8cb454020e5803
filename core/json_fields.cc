#include "core/json_fields.h"

namespace resmeter {
namespace {

// The member, or nullptr when obj is not an object or lacks it.
const nlohmann::json* Member(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

}  // namespace

std::string JsonString(const nlohmann::json& obj, const char* key, const std::string& fallback) {
  const nlohmann::json* m = Member(obj, key);
  return m && m->is_string() ? m->get<std::string>() : fallback;
}

bool JsonBool(const nlohmann::json& obj, const char* key, bool fallback) {
  const nlohmann::json* m = Member(obj, key);
  return m && m->is_boolean() ? m->get<bool>() : fallback;
}

double JsonNumber(const nlohmann::json& obj, const char* key, double fallback) {
  const nlohmann::json* m = Member(obj, key);
  return m && m->is_number() ? m->get<double>() : fallback;
}

const nlohmann::json& JsonMember(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

}  // namespace resmeter
