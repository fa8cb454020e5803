#include "ledger/flat_json.h"

#include <charconv>
#include <cmath>

namespace resmeter {
namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  Status Error(const std::string& what) const {
    return Status::Corruption("JSON: " + what + " at offset " + std::to_string(i_));
  }
  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool Eat(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ == s_.size();
  }
  Status String(FlatJsonValue* v);
  Status Number(FlatJsonValue* v);
  Status Literal(FlatJsonValue* v);
  char Peek() {
    SkipSpace();
    return i_ < s_.size() ? s_[i_] : '\0';
  }

 private:
  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool Hex4(size_t at, unsigned* out) const {
    if (at + 4 > s_.size()) return false;
    unsigned v = 0;
    for (size_t k = 0; k < 4; ++k) {
      int h = Hex(s_[at + k]);
      if (h < 0) return false;
      v = v * 16 + static_cast<unsigned>(h);
    }
    *out = v;
    return true;
  }
  static void AppendUtf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  // Length of a valid UTF-8 sequence starting at i_ (non-ASCII lead), or 0.
  size_t Utf8Length() const;

  std::string_view s_;
  size_t i_ = 0;
};

size_t Scanner::Utf8Length() const {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(i_ + k < s_.size() ? s_[i_ + k] : 0); };
  const unsigned char c = b(0);
  const auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return b(1) >= 0xA0 && b(1) <= 0xBF && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return b(1) >= 0x80 && b(1) <= 0x9F && cont(2) ? 3 : 0;
  if (c == 0xF0) return b(1) >= 0x90 && b(1) <= 0xBF && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return b(1) >= 0x80 && b(1) <= 0x8F && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

Status Scanner::String(FlatJsonValue* v) {
  if (!Eat('"')) return Error("expected a string");
  v->type = FlatJsonValue::Type::kString;
  const size_t start = i_;
  size_t plain_from = start;  // start of the not yet copied plain run (escapes only)
  while (i_ < s_.size()) {
    const unsigned char c = static_cast<unsigned char>(s_[i_]);
    if (c == '"') {
      v->raw = s_.substr(start, i_ - start);
      if (v->has_escapes) v->decoded.append(s_.substr(plain_from, i_ - plain_from));
      ++i_;
      return Status::Ok();
    }
    if (c < 0x20) return Error("control character in a string");
    if (c >= 0x80) {
      const size_t n = Utf8Length();
      if (n == 0) return Error("invalid UTF-8 in a string");
      i_ += n;
      continue;
    }
    if (c != '\\') {
      ++i_;
      continue;
    }
    v->has_escapes = true;
    v->decoded.append(s_.substr(plain_from, i_ - plain_from));
    if (i_ + 1 >= s_.size()) return Error("unterminated escape");
    const char e = s_[i_ + 1];
    i_ += 2;
    switch (e) {
      case '"': v->decoded += '"'; break;
      case '\\': v->decoded += '\\'; break;
      case '/': v->decoded += '/'; break;
      case 'b': v->decoded += '\b'; break;
      case 'f': v->decoded += '\f'; break;
      case 'n': v->decoded += '\n'; break;
      case 'r': v->decoded += '\r'; break;
      case 't': v->decoded += '\t'; break;
      case 'u': {
        unsigned cp;
        if (!Hex4(i_, &cp)) return Error("bad \\u escape");
        i_ += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate needs its low half
          unsigned lo;
          if (i_ + 6 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u' || !Hex4(i_ + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
            return Error("unpaired surrogate");
          }
          i_ += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return Error("unpaired surrogate");
        }
        AppendUtf8(v->decoded, cp);
        break;
      }
      default: return Error("bad escape");
    }
    plain_from = i_;
  }
  return Error("unterminated string");
}

Status Scanner::Number(FlatJsonValue* v) {
  SkipSpace();
  const size_t start = i_;
  auto digits = [&] {
    size_t n = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_, ++n;
    return n;
  };
  const bool negative = i_ < s_.size() && s_[i_] == '-';
  if (negative) ++i_;
  const size_t int_start = i_;
  const size_t int_digits = digits();
  if (int_digits == 0) return Error("expected a value");
  if (int_digits > 1 && s_[int_start] == '0') return Error("leading zero in a number");
  bool integer = true;
  if (i_ < s_.size() && s_[i_] == '.') {
    ++i_;
    integer = false;
    if (digits() == 0) return Error("expected digits after '.'");
  }
  if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
    ++i_;
    integer = false;
    if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
    if (digits() == 0) return Error("expected digits in the exponent");
  }
  v->type = FlatJsonValue::Type::kNumber;
  const char* b = s_.data() + start;
  const char* e = s_.data() + i_;
  auto r = std::from_chars(b, e, v->number);
  if (r.ec != std::errc() || r.ptr != e || !std::isfinite(v->number)) return Error("number out of range");
  if (integer && !negative) {
    auto u = std::from_chars(b, e, v->uint_value);
    v->is_uint = u.ec == std::errc() && u.ptr == e;
  }
  return Status::Ok();
}

Status Scanner::Literal(FlatJsonValue* v) {
  SkipSpace();
  v->type = FlatJsonValue::Type::kBool;
  if (s_.substr(i_, 4) == "true") {
    v->boolean = true;
    i_ += 4;
    return Status::Ok();
  }
  if (s_.substr(i_, 5) == "false") {
    v->boolean = false;
    i_ += 5;
    return Status::Ok();
  }
  return Error("expected a string, number or boolean");
}

}  // namespace

Status ParseFlatJsonObject(std::string_view text, FlatJsonMember* out, size_t capacity, size_t* count) {
  Scanner sc(text);
  *count = 0;
  if (!sc.Eat('{')) return sc.Error("expected '{'");
  if (sc.Eat('}')) return sc.AtEnd() ? Status::Ok() : sc.Error("bytes after the object");
  for (;;) {
    if (*count == capacity) return sc.Error("too many members");
    FlatJsonMember& m = out[*count];
    m.value = FlatJsonValue();
    FlatJsonValue key;
    RESMETER_RETURN_IF_ERROR(sc.String(&key));
    if (key.has_escapes) return sc.Error("escaped member name");
    m.key = key.raw;
    for (size_t k = 0; k < *count; ++k) {
      if (out[k].key == m.key) return sc.Error("duplicate member '" + std::string(m.key) + "'");
    }
    if (!sc.Eat(':')) return sc.Error("expected ':'");
    const char c = sc.Peek();
    if (c == '"') {
      RESMETER_RETURN_IF_ERROR(sc.String(&m.value));
    } else if (c == 't' || c == 'f') {
      RESMETER_RETURN_IF_ERROR(sc.Literal(&m.value));
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      RESMETER_RETURN_IF_ERROR(sc.Number(&m.value));
    } else {
      return sc.Error("expected a string, number or boolean");
    }
    ++*count;
    if (sc.Eat(',')) continue;
    if (!sc.Eat('}')) return sc.Error("expected ',' or '}'");
    return sc.AtEnd() ? Status::Ok() : sc.Error("bytes after the object");
  }
}

}  // namespace resmeter
