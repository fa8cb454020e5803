// FlatJson: a strict, allocation-light parser for one JSON object (RFC 8259)
// whose member values are strings, numbers or booleans, with no nesting:
// the shape of a usage ledger line. It exists because the audit parses
// millions of lines; a general DOM parser spends most of its time
// allocating. Rejects anything else (nesting, null, trailing bytes,
// duplicate keys, invalid UTF-8, control characters, non-JSON numbers).
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace resmeter {

struct FlatJsonValue {
  enum class Type { kString, kNumber, kBool };
  Type type = Type::kString;
  std::string_view raw;        // string: the bytes between the quotes, escapes undecoded
  std::string decoded;         // string with escapes: the decoded text (else empty)
  bool has_escapes = false;
  double number = 0;           // number
  bool is_uint = false;        // number written as a non-negative integer that fits uint64
  uint64_t uint_value = 0;
  bool boolean = false;        // bool

  // The string's text (decoded when it had escapes).
  std::string_view text() const { return has_escapes ? std::string_view(decoded) : raw; }
};

struct FlatJsonMember {
  std::string_view key;  // keys must not contain escapes
  FlatJsonValue value;
};

// Parses `text` into out[0..*count). Corruption naming the offset and the
// problem; more than `capacity` members is an error too.
Status ParseFlatJsonObject(std::string_view text, FlatJsonMember* out, size_t capacity, size_t* count);

}  // namespace resmeter
