#include "core/untrusted_json.h"
#include "ledger/ledger_statement.h"

#include <openssl/sha.h>

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "core/base64url.h"
#include "ledger/flat_json.h"

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
// Invalid UTF-8 is replaced (U+FFFD), so serialization never fails.
void String(std::string& out, const std::string& s) {
  out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

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

// Members of a line, in serialization order; `v` .. `kid` and `sig` are in every kind.
enum Field { kV, kSeq, kPrev, kKind, kKid, kStart, kEnd, kDelivered, kStolen, kMemory, kGpu, kReport, kTrusted,
             kTimeReason, kJwk, kKeyOrigin, kEvidence, kPrevEpochKid, kCutBytes, kCutSha, kCutFile, kClean, kReason,
             kSig,
             kAvailSamples, kAvailRatio, kAvailVcpus, kAvailCost,  // measured availability (optional)
             kFieldCount };
constexpr std::string_view kFieldNames[kFieldCount] = {
    "v", "seq", "prev", "kind", "kid", "start_unix_seconds", "end_unix_seconds", "vcpu_delivered_seconds",
    "vcpu_stolen_seconds", "memory_gib_seconds", "gpu_seconds", "report", "time_trusted", "time_reason", "jwk",
    "key_origin", "evidence", "prev_epoch_kid", "cut_bytes", "cut_sha256", "cut_file", "clean", "reason", "sig",
    "vcpu_availability_samples", "vcpu_availability_measured_ratio", "vcpus_challenged",
    "availability_sampler_cpu_ratio"};

// Whether kind k has member f.
bool Wants(Field f, LedgerKind k) {
  switch (f) {
    case kStart: case kEnd: case kTrusted: case kTimeReason: return k != LedgerKind::kCheckpoint;
    case kDelivered: case kStolen: case kMemory: case kGpu: case kReport: return k == LedgerKind::kUsage;
    case kJwk: case kKeyOrigin: case kEvidence: case kPrevEpochKid: case kCutBytes: case kCutSha: case kCutFile:
    case kClean:
      return k == LedgerKind::kEpoch;
    case kReason: return k != LedgerKind::kUsage;
    case kAvailSamples: case kAvailRatio: case kAvailVcpus: case kAvailCost: return k == LedgerKind::kUsage;
    default: return true;
  }
}

using Value = FlatJsonValue;
bool IsString(const Value* v) { return v && v->type == Value::Type::kString; }
bool IsNumber(const Value* v) { return v && v->type == Value::Type::kNumber; }
bool IsBool(const Value* v) { return v && v->type == Value::Type::kBool; }
bool IsUint(const Value* v) { return IsNumber(v) && v->is_uint; }

}  // namespace

const char* LedgerKindName(LedgerKind kind) {
  switch (kind) {
    case LedgerKind::kUsage: return "usage";
    case LedgerKind::kEpoch: return "epoch";
    case LedgerKind::kCheckpoint: return "checkpoint";
  }
  return "?";
}

std::string SerializeLedgerBody(const LedgerStatement& s) {
  std::string out;
  out.reserve(s.kind == LedgerKind::kEpoch ? 1024 + s.evidence.size() : 512);
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
  if (s.kind == LedgerKind::kUsage && s.availability.sampled) {  // measured availability
    Key(out, "vcpu_availability_samples");
    out += std::to_string(s.availability.samples);
    if (s.availability.samples > 0) {
      Key(out, "vcpu_availability_measured_ratio");
      Number(out, s.availability.measured_ratio);
    }
    Key(out, "vcpus_challenged");
    out += std::to_string(s.availability.vcpus);
    Key(out, "availability_sampler_cpu_ratio");
    Number(out, s.availability.sampler_cpu_ratio);
  }
  if (s.kind != LedgerKind::kCheckpoint) {
    Key(out, "time_trusted");
    out += s.time_trusted ? "true" : "false";
    Key(out, "time_reason");
    String(out, s.time_reason);
  }
  if (s.kind == LedgerKind::kEpoch) {
    Key(out, "jwk");
    String(out, s.jwk);
    Key(out, "key_origin");
    String(out, s.key_origin);
    Key(out, "evidence");
    String(out, s.evidence);
    Key(out, "prev_epoch_kid");
    String(out, s.prev_epoch_kid);
    Key(out, "cut_bytes");
    out += std::to_string(s.cut_bytes);
    Key(out, "cut_sha256");
    String(out, s.cut_sha256);
    Key(out, "cut_file");
    String(out, s.cut_file);
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
                   s.memory_gib_seconds, s.gpu_seconds, s.availability.measured_ratio,
                   s.availability.sampler_cpu_ratio}) {
    if (!std::isfinite(v)) return Status::InvalidArgument("ledger statement seq " + std::to_string(s.seq) + ": non-finite number");
  }
  std::string body = SerializeLedgerBody(s);
  if (body.size() + 512 > kMaxLedgerLineBytes) {
    return Status::InvalidArgument("ledger statement seq " + std::to_string(s.seq) + " would be " +
                                   std::to_string(body.size()) + " bytes, over the line limit");
  }
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
  FlatJsonMember members[kFieldCount];
  size_t count = 0;
  Status parsed = ParseFlatJsonObject(line, members, kFieldCount, &count);
  if (!parsed.ok()) return Status::Corruption("not a JSON object of strings, numbers and booleans: " + parsed.message());
  const Value* f[kFieldCount] = {};
  bool v1_member = false;
  for (size_t m = 0; m < count; ++m) {
    size_t k = 0;
    while (k < kFieldCount && kFieldNames[k] != members[m].key) ++k;
    if (k == kFieldCount) {
      if (members[m].key == "torn_bytes") {
        v1_member = true;
        continue;
      }
      return Status::Corruption("unknown member '" + std::string(members[m].key) + "'");
    }
    f[k] = &members[m].value;
  }
  LedgerStatement s;
  if (IsUint(f[kV]) && f[kV]->uint_value == 1) {
    return Status::Corruption("'v' is 1: a v1 ledger line (unsigned usage lines); this version reads only v" +
                              std::to_string(kLedgerVersion));
  }
  if (!IsUint(f[kV]) || f[kV]->uint_value != kLedgerVersion || v1_member)
    return Status::Corruption("'v' is not " + std::to_string(kLedgerVersion));
  if (!IsUint(f[kSeq]) || f[kSeq]->uint_value == 0) return Status::Corruption("'seq' is not a positive integer");
  s.seq = f[kSeq]->uint_value;
  const std::string at = "seq " + std::to_string(s.seq) + ": ";
  if (!IsString(f[kPrev]) || !IsHex64(std::string(f[kPrev]->text()))) return Status::Corruption(at + "'prev' is not 64 hex digits");
  s.prev = f[kPrev]->text();
  if (!IsString(f[kKind])) return Status::Corruption(at + "'kind' missing");
  const std::string_view kind = f[kKind]->text();
  if (kind == "usage") s.kind = LedgerKind::kUsage;
  else if (kind == "epoch") s.kind = LedgerKind::kEpoch;
  else if (kind == "checkpoint") s.kind = LedgerKind::kCheckpoint;
  else return Status::Corruption(at + "unknown kind '" + std::string(kind) + "'");
  if (!IsString(f[kKid]) || f[kKid]->text().empty() || f[kKid]->text().size() > 128) return Status::Corruption(at + "'kid' missing");
  s.kid = f[kKid]->text();
  for (int k = kStart; k < kFieldCount; ++k) {
    const Field field = static_cast<Field>(k);
    const Value* v = f[k];
    const std::string name(kFieldNames[k]);
    if (!Wants(field, s.kind)) {
      if (v) return Status::Corruption(at + "a " + std::string(kind) + " statement has no '" + name + "'");
      continue;
    }
    if (field >= kAvailSamples && !v) continue;  // measured availability is optional
    bool ok = true;
    switch (field) {
      case kStart: ok = IsNumber(v) && (s.start_unix_seconds = v->number, true); break;
      case kEnd: ok = IsNumber(v) && (s.end_unix_seconds = v->number, true); break;
      case kDelivered: ok = IsNumber(v) && (s.vcpu_delivered_seconds = v->number, true); break;
      case kStolen: ok = IsNumber(v) && (s.vcpu_stolen_seconds = v->number, true); break;
      case kMemory: ok = IsNumber(v) && (s.memory_gib_seconds = v->number, true); break;
      case kGpu: ok = IsNumber(v) && (s.gpu_seconds = v->number, true); break;
      case kReport:
        ok = IsString(v) && (s.report_digest = v->text(), s.report_digest.empty() || IsHex64(s.report_digest));
        break;
      case kTrusted: ok = IsBool(v) && (s.time_trusted = v->boolean, true); break;
      case kTimeReason: ok = IsString(v) && (s.time_reason = v->text(), true); break;
      case kJwk: ok = IsString(v) && !v->text().empty() && (s.jwk = v->text(), true); break;
      case kKeyOrigin: ok = IsString(v) && (s.key_origin = v->text(), true); break;
      case kEvidence: ok = IsString(v) && (s.evidence = v->text(), true); break;
      case kPrevEpochKid: ok = IsString(v) && (s.prev_epoch_kid = v->text(), true); break;
      case kCutBytes: ok = IsUint(v) && (s.cut_bytes = v->uint_value, true); break;
      case kCutSha:
        ok = IsString(v) && (s.cut_sha256 = v->text(), s.cut_sha256.empty() || IsHex64(s.cut_sha256));
        break;
      case kCutFile: ok = IsString(v) && (s.cut_file = v->text(), true); break;
      case kClean: ok = IsBool(v) && (s.clean = v->boolean, true); break;
      case kReason: ok = IsString(v) && (s.reason = v->text(), true); break;
      case kSig: ok = IsString(v) && !v->text().empty() && (s.sig = v->text(), true); break;
      case kAvailSamples: ok = IsUint(v) && (s.availability.samples = v->uint_value, true); break;
      case kAvailRatio: ok = IsNumber(v) && (s.availability.measured_ratio = v->number, true); break;
      case kAvailVcpus: ok = IsUint(v) && (s.availability.vcpus = v->uint_value, true); break;
      case kAvailCost: ok = IsNumber(v) && (s.availability.sampler_cpu_ratio = v->number, true); break;
      default: break;
    }
    if (!ok) return Status::Corruption(at + "'" + name + "' missing or of the wrong type");
  }
  if (s.kind == LedgerKind::kUsage) {
    for (double v : {s.vcpu_delivered_seconds, s.vcpu_stolen_seconds, s.memory_gib_seconds, s.gpu_seconds}) {
      if (v < 0) return Status::Corruption(at + "negative usage amount");
    }
  }
  if (f[kAvailSamples] || f[kAvailRatio] || f[kAvailVcpus] || f[kAvailCost]) {  // measured availability
    s.availability.sampled = true;
    if (!f[kAvailSamples] || !f[kAvailVcpus] || !f[kAvailCost]) return Status::Corruption(at + "measured availability without its sample count, vCPUs or cost");
    if ((s.availability.samples > 0) != (f[kAvailRatio] != nullptr)) return Status::Corruption(at + "'vcpu_availability_measured_ratio' must be present exactly when there are samples");
    if (!(s.availability.measured_ratio >= 0 && s.availability.measured_ratio <= 1)) return Status::Corruption(at + "'vcpu_availability_measured_ratio' outside 0..1");
    if (s.availability.samples > 0 && s.availability.vcpus == 0) return Status::Corruption(at + "availability samples without 'vcpus_challenged'");
    if (!(s.availability.sampler_cpu_ratio >= 0)) return Status::Corruption(at + "negative 'availability_sampler_cpu_ratio'");
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
  auto signature = Base64UrlDecode(token.substr(dots + 2));
  if (!signature) return Status::Corruption("'sig' is not base64url");
  // Every line of an epoch carries the same header: remember the last one
  // accepted for this key (per thread) instead of parsing it again.
  thread_local std::string cached_header, cached_kid;
  if (header_b64 != cached_header || cached_kid != key.thumbprint()) {
    auto header_bytes = Base64UrlDecode(header_b64);
    if (!header_bytes) return Status::Corruption("'sig' is not base64url");
    nlohmann::json header = ParseUntrustedJsonOrDiscarded(*header_bytes);
    if (header.is_discarded() || !header.is_object()) return Status::Corruption("'sig' header is not a JSON object");
    const auto alg = header.find("alg");
    const auto kid = header.find("kid");
    const std::string alg_text = alg != header.end() && alg->is_string() ? alg->get<std::string>() : "";
    const std::string kid_text = kid != header.end() && kid->is_string() ? kid->get<std::string>() : "";
    if (alg_text != key.algorithm()) return Status::VerifyFailed("signed with alg '" + alg_text + "', not the key's");
    if (kid_text != key.thumbprint()) return Status::VerifyFailed("signed by kid '" + kid_text + "', not the given key");
    if (header.contains("crit") || header.contains("b64")) return Status::VerifyFailed("'sig' header has unsupported members");
    cached_header.assign(header_b64);
    cached_kid = key.thumbprint();
  }
  std::string payload(line.substr(0, pos));
  payload += '}';
  std::string signing_input(header_b64);
  signing_input += '.';
  signing_input += Base64UrlEncode(payload);
  return key.Verify(signing_input, *signature);
}

}  // namespace resmeter
