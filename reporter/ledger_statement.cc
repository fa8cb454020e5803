#include "reporter/ledger_statement.h"

#include <openssl/sha.h>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "reporter/base64url.h"

namespace resmeter {
namespace {

constexpr std::string_view kSigMember = ",\"sig\":\"";

// Appends `,"name":` to out.
void Key(std::string& out, const char* name) {
  out += ",\"";
  out += name;
  out += "\":";
}

// Appends a double in shortest round-trip form.
void Number(std::string& out, double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// Appends a JSON string literal.
void String(std::string& out, const std::string& s) { out += nlohmann::json(s).dump(); }

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsJwsChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

// Reads member `name` of `j` into the typed outputs; each returns false when absent or mistyped.
bool GetNumber(const nlohmann::json& j, const char* name, double* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number()) return false;
  *out = it->get<double>();
  return std::isfinite(*out);
}
bool GetString(const nlohmann::json& j, const char* name, std::string* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}
bool GetBool(const nlohmann::json& j, const char* name, bool* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_boolean()) return false;
  *out = it->get<bool>();
  return true;
}
bool GetUint(const nlohmann::json& j, const char* name, uint64_t* out) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_number_unsigned()) return false;
  *out = it->get<uint64_t>();
  return true;
}

// The members each kind must have (beyond v, seq, prev, kind, kid).
struct MemberSpec {
  const char* name;
  bool usage, restart, checkpoint;
};
constexpr MemberSpec kMembers[] = {
    {"start_unix_seconds", true, true, false},  {"end_unix_seconds", true, true, false},
    {"vcpu_delivered_seconds", true, false, false}, {"vcpu_stolen_seconds", true, false, false},
    {"memory_gib_seconds", true, false, false}, {"gpu_seconds", true, false, false},
    {"report", true, false, false},             {"time_trusted", true, true, false},
    {"time_reason", true, true, false},         {"torn_bytes", false, true, false},
    {"clean", false, true, false},              {"reason", false, true, true},
    {"sig", false, true, true},
};

bool Wants(const MemberSpec& m, LedgerKind k) {
  return k == LedgerKind::kUsage ? m.usage : k == LedgerKind::kRestart ? m.restart : m.checkpoint;
}

}  // namespace

const char* LedgerKindName(LedgerKind kind) {
  switch (kind) {
    case LedgerKind::kUsage: return "usage";
    case LedgerKind::kRestart: return "restart";
    case LedgerKind::kCheckpoint: return "checkpoint";
  }
  return "?";
}

std::string SerializeLedgerBody(const LedgerStatement& s) {
  std::string out;
  out.reserve(512);
  out += "{\"v\":";
  out += std::to_string(kLedgerVersion);
  Key(out, "seq");
  out += std::to_string(s.seq);
  Key(out, "prev");
  String(out, s.prev);
  Key(out, "kind");
  String(out, LedgerKindName(s.kind));
  Key(out, "kid");
  String(out, s.kid);
  if (s.kind != LedgerKind::kCheckpoint) {
    Key(out, "start_unix_seconds");
    Number(out, s.start_unix_seconds);
    Key(out, "end_unix_seconds");
    Number(out, s.end_unix_seconds);
  }
  if (s.kind == LedgerKind::kUsage) {
    Key(out, "vcpu_delivered_seconds");
    Number(out, s.vcpu_delivered_seconds);
    Key(out, "vcpu_stolen_seconds");
    Number(out, s.vcpu_stolen_seconds);
    Key(out, "memory_gib_seconds");
    Number(out, s.memory_gib_seconds);
    Key(out, "gpu_seconds");
    Number(out, s.gpu_seconds);
    Key(out, "report");
    String(out, s.report_digest);
  }
  if (s.kind != LedgerKind::kCheckpoint) {
    Key(out, "time_trusted");
    out += s.time_trusted ? "true" : "false";
    Key(out, "time_reason");
    String(out, s.time_reason);
  }
  if (s.kind == LedgerKind::kRestart) {
    Key(out, "torn_bytes");
    out += std::to_string(s.torn_bytes);
    Key(out, "clean");
    out += s.clean ? "true" : "false";
  }
  if (s.kind != LedgerKind::kUsage) {
    Key(out, "reason");
    String(out, s.reason);
  }
  out += "}";
  return out;
}

Result<std::string> SealLedgerStatement(const LedgerStatement& s, const Signer& signer) {
  for (double v : {s.start_unix_seconds, s.end_unix_seconds, s.vcpu_delivered_seconds, s.vcpu_stolen_seconds,
                   s.memory_gib_seconds, s.gpu_seconds}) {
    if (!std::isfinite(v)) return Status::InvalidArgument("ledger statement seq " + std::to_string(s.seq) + ": non-finite number");
  }
  std::string body = SerializeLedgerBody(s);
  if (!s.is_signed()) return body;
  RESMETER_ASSIGN_OR_RETURN(std::string token, signer.SignCompact(body));
  const size_t first = token.find('.');
  const size_t last = token.rfind('.');
  if (first == std::string::npos || first == last) return Status::Corruption("signer returned a malformed JWS");
  body.pop_back();  // the closing brace
  body += kSigMember;
  body.append(token, 0, first + 1);
  body.append(token, last, std::string::npos);
  body += "\"}";
  return body;
}

Result<LedgerStatement> ParseLedgerLine(std::string_view line) {
  if (line.size() > kMaxLedgerLineBytes) return Status::Corruption("line longer than " + std::to_string(kMaxLedgerLineBytes) + " bytes");
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("not a JSON object");
  LedgerStatement s;
  uint64_t version = 0;
  if (!GetUint(j, "v", &version) || version != kLedgerVersion) return Status::Corruption("'v' is not " + std::to_string(kLedgerVersion));
  if (!GetUint(j, "seq", &s.seq) || s.seq == 0) return Status::Corruption("'seq' is not a positive integer");
  const std::string at = "seq " + std::to_string(s.seq) + ": ";
  if (!GetString(j, "prev", &s.prev) || !IsHex64(s.prev)) return Status::Corruption(at + "'prev' is not 64 hex digits");
  std::string kind;
  if (!GetString(j, "kind", &kind)) return Status::Corruption(at + "'kind' missing");
  if (kind == "usage") s.kind = LedgerKind::kUsage;
  else if (kind == "restart") s.kind = LedgerKind::kRestart;
  else if (kind == "checkpoint") s.kind = LedgerKind::kCheckpoint;
  else return Status::Corruption(at + "unknown kind '" + kind + "'");
  if (!GetString(j, "kid", &s.kid) || s.kid.empty() || s.kid.size() > 128) return Status::Corruption(at + "'kid' missing");
  size_t expected = 5;
  for (const auto& m : kMembers) {
    const bool want = Wants(m, s.kind);
    if (!want) {
      if (j.contains(m.name)) return Status::Corruption(at + "a " + kind + " statement has no '" + m.name + "'");
      continue;
    }
    ++expected;
    bool ok = true;
    const std::string name = m.name;
    if (name == "start_unix_seconds") ok = GetNumber(j, m.name, &s.start_unix_seconds);
    else if (name == "end_unix_seconds") ok = GetNumber(j, m.name, &s.end_unix_seconds);
    else if (name == "vcpu_delivered_seconds") ok = GetNumber(j, m.name, &s.vcpu_delivered_seconds);
    else if (name == "vcpu_stolen_seconds") ok = GetNumber(j, m.name, &s.vcpu_stolen_seconds);
    else if (name == "memory_gib_seconds") ok = GetNumber(j, m.name, &s.memory_gib_seconds);
    else if (name == "gpu_seconds") ok = GetNumber(j, m.name, &s.gpu_seconds);
    else if (name == "report") ok = GetString(j, m.name, &s.report_digest) && (s.report_digest.empty() || IsHex64(s.report_digest));
    else if (name == "time_trusted") ok = GetBool(j, m.name, &s.time_trusted);
    else if (name == "time_reason") ok = GetString(j, m.name, &s.time_reason);
    else if (name == "torn_bytes") ok = GetUint(j, m.name, &s.torn_bytes);
    else if (name == "clean") ok = GetBool(j, m.name, &s.clean);
    else if (name == "reason") ok = GetString(j, m.name, &s.reason);
    else if (name == "sig") ok = GetString(j, m.name, &s.sig) && !s.sig.empty();
    if (!ok) return Status::Corruption(at + "'" + name + "' missing or of the wrong type");
  }
  if (j.size() != expected) return Status::Corruption(at + "unknown members in a " + kind + " statement");
  if (s.kind == LedgerKind::kUsage) {
    for (double v : {s.vcpu_delivered_seconds, s.vcpu_stolen_seconds, s.memory_gib_seconds, s.gpu_seconds}) {
      if (v < 0) return Status::Corruption(at + "negative usage amount");
    }
  }
  if (s.kind != LedgerKind::kCheckpoint && s.end_unix_seconds < s.start_unix_seconds) {
    return Status::Corruption(at + "period ends before it starts");
  }
  return s;
}

std::string LedgerLineHash(std::string_view line) {
  unsigned char md[32];
  LedgerLineHashRaw(line, md);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), sizeof(md)));
}

void LedgerLineHashRaw(std::string_view line, unsigned char out[32]) {
  SHA256(reinterpret_cast<const unsigned char*>(line.data()), line.size(), out);
}

Status VerifyLedgerSignature(std::string_view line, const PublicKey& key) {
  const size_t pos = line.rfind(kSigMember);
  if (pos == std::string_view::npos || line.size() < pos + kSigMember.size() + 2 || !EndsWith(line, "\"}")) {
    return Status::Corruption("signed statement does not end with its 'sig' member");
  }
  const std::string_view token = line.substr(pos + kSigMember.size(), line.size() - 2 - pos - kSigMember.size());
  for (char c : token) {
    if (!IsJwsChar(c)) return Status::Corruption("'sig' is not a detached JWS");
  }
  const size_t dots = token.find("..");
  if (dots == std::string_view::npos || token.find('.', dots + 2) != std::string_view::npos) {
    return Status::Corruption("'sig' is not a detached JWS (HEADER..SIGNATURE)");
  }
  const std::string_view header_b64 = token.substr(0, dots);
  auto header_bytes = Base64UrlDecode(header_b64);
  auto signature = Base64UrlDecode(token.substr(dots + 2));
  if (!header_bytes || !signature) return Status::Corruption("'sig' is not base64url");
  nlohmann::json header = nlohmann::json::parse(*header_bytes, nullptr, false);
  if (header.is_discarded() || !header.is_object()) return Status::Corruption("'sig' header is not a JSON object");
  if (header.value("alg", "") != key.algorithm()) return Status::VerifyFailed("signed with alg '" + header.value("alg", "") + "', not the key's");
  if (header.value("kid", "") != key.thumbprint()) return Status::VerifyFailed("signed by kid '" + header.value("kid", "") + "', not the given key");
  std::string payload(line.substr(0, pos));
  payload += '}';
  std::string signing_input(header_b64);
  signing_input += '.';
  signing_input += Base64UrlEncode(payload);
  return key.Verify(signing_input, *signature);
}

}  // namespace resmeter
