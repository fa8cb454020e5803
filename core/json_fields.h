// Tolerant member access for JSON that arrived from elsewhere (report claims,
// evidence) and is only printed: a member of the wrong type, or a value that
// is not an object, yields the fallback instead of an exception
// (nlohmann's value()/get() throw type_error on a type mismatch). Pure
// functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace resmeter {

// obj[key] when obj is an object and the member is a string, else `fallback`.
std::string JsonString(const nlohmann::json& obj, const char* key, const std::string& fallback);
// obj[key] when it is a boolean, else `fallback`.
bool JsonBool(const nlohmann::json& obj, const char* key, bool fallback);
// obj[key] when it is a number, else `fallback`.
double JsonNumber(const nlohmann::json& obj, const char* key, double fallback);
// obj[key] of any type when obj is an object holding it, else a null value.
const nlohmann::json& JsonMember(const nlohmann::json& obj, const char* key);

}  // namespace resmeter
