// Encoding and decoding of chronyd command packets; see chrony_protocol.h.
#include "timesource/chrony_protocol.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdio>
#include <cstring>

namespace resmeter::chrony {
namespace {

constexpr uint8_t kPktTypeRequest = 1;
constexpr uint8_t kPktTypeReply = 2;
constexpr size_t kIpAddrBytes = 20;
constexpr int kFloatCoefBits = 25;
constexpr int kFloatExpBits = 7;
constexpr uint32_t kNoHighSeconds = 0x7fffffff;

// Data bytes of each reply this client asks for (chrony 4.x, protocol 6).
constexpr size_t kNSourcesBytes = 4;
constexpr size_t kSourceDataBytes = 48;
constexpr size_t kTrackingBytes = 76;
// RPY_NTP_DATA: 96 bytes of fields and 4 counters, then reserved words
// (chronyd 4.3 sends 124 data bytes; chronyc pads its request to match).
constexpr size_t kNtpDataBytes = 124;
constexpr size_t kNtpDataMinBytes = 108;  // through total_valid_count
constexpr size_t kAuthDataBytes = 24;
constexpr size_t kNtpSourceNameBytes = 256;

// Appends big-endian integers to a packet.
void PutU8(std::string& out, uint8_t v) { out.push_back(static_cast<char>(v)); }
void PutU16(std::string& out, uint16_t v) {
  PutU8(out, static_cast<uint8_t>(v >> 8));
  PutU8(out, static_cast<uint8_t>(v));
}
void PutU32(std::string& out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v));
}
void PutIpAddr(std::string& out, const IpAddr& ip) {
  out.append(reinterpret_cast<const char*>(ip.bytes.data()), ip.bytes.size());
  PutU16(out, ip.family);
  PutU16(out, 0);
}

// Reads big-endian fields from a bounds-checked data block. Callers check the
// total length first, so reads past the end return zero instead of crashing.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  uint8_t U8() { return pos_ < data_.size() ? static_cast<uint8_t>(data_[pos_++]) : (pos_++, 0); }
  uint16_t U16() {
    uint16_t hi = U8();
    return static_cast<uint16_t>((hi << 8) | U8());
  }
  uint32_t U32() {
    uint32_t hi = U16();
    return (hi << 16) | U16();
  }
  int8_t I8() { return static_cast<int8_t>(U8()); }
  int16_t I16() { return static_cast<int16_t>(U16()); }
  double Float() { return DecodeFloat(U32()); }
  double Timespec() {
    uint32_t high = U32();
    uint32_t low = U32();
    uint32_t nsec = U32();
    uint64_t sec = (high == kNoHighSeconds ? 0 : static_cast<uint64_t>(high) << 32) | low;
    return static_cast<double>(sec) + nsec * 1e-9;
  }
  IpAddr Ip() {
    IpAddr ip;
    for (auto& b : ip.bytes) b = U8();
    ip.family = U16();
    U16();
    return ip;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Corruption unless `data` holds at least `need` bytes.
Status NeedBytes(std::string_view data, size_t need, const char* what) {
  if (data.size() >= need) return Status::Ok();
  return Status::Corruption(std::string("chronyd reply ") + what + " truncated: " +
                            std::to_string(data.size()) + " data bytes, need " + std::to_string(need));
}

// The data bytes of the command part of a request.
size_t RequestDataBytes(uint16_t command) {
  switch (command) {
    case kReqSourceData:
      return 4;
    case kReqNtpData:
    case kReqAuthData:
    case kReqNtpSourceName:
      return kIpAddrBytes;
    default:
      return 0;
  }
}

// The reply code chronyd answers a request with.
uint16_t ReplyFor(uint16_t command) {
  switch (command) {
    case kReqNSources:
      return kRpyNSources;
    case kReqSourceData:
      return kRpySourceData;
    case kReqTracking:
      return kRpyTracking;
    case kReqNtpData:
      return kRpyNtpData;
    case kReqAuthData:
      return kRpyAuthData;
    case kReqNtpSourceName:
      return kRpyNtpSourceName;
    default:
      return kRpyNull;
  }
}

}  // namespace

std::string IpAddr::ToString() const {
  char buf[64];
  switch (family) {
    case 1:
      return inet_ntop(AF_INET, bytes.data(), buf, sizeof buf) ? buf : "";
    case 2:
      return inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf) ? buf : "";
    case 3: {
      uint32_t id =
          (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | bytes[3];
      std::snprintf(buf, sizeof buf, "ID#%010u", id);
      return buf;
    }
    default:
      return "";
  }
}

Result<IpAddr> ParseIpAddr(const std::string& text) {
  IpAddr ip;
  if (inet_pton(AF_INET, text.c_str(), ip.bytes.data()) == 1) {
    ip.family = 1;
    return ip;
  }
  if (inet_pton(AF_INET6, text.c_str(), ip.bytes.data()) == 1) {
    ip.family = 2;
    return ip;
  }
  return Status::InvalidArgument("not a numeric IP address: '" + text + "'");
}

double DecodeFloat(uint32_t raw) {
  int32_t exp = static_cast<int32_t>(raw >> kFloatCoefBits);
  if (exp >= (1 << (kFloatExpBits - 1))) exp -= 1 << kFloatExpBits;
  int32_t coef = static_cast<int32_t>(raw & ((1u << kFloatCoefBits) - 1));
  if (coef >= (1 << (kFloatCoefBits - 1))) coef -= 1 << kFloatCoefBits;
  return std::ldexp(static_cast<double>(coef), exp - kFloatCoefBits);
}

uint32_t EncodeFloat(double value) {
  if (!std::isfinite(value) || value == 0) return 0;
  int exp = 0;
  std::frexp(value, &exp);  // |value| = m * 2^exp, 0.5 <= m < 1
  // coef = value * 2^(25 - e) must fit in 25 signed bits: |coef| < 2^24.
  int e = exp + 1;
  const int max_exp = (1 << (kFloatExpBits - 1)) - 1, min_exp = -(1 << (kFloatExpBits - 1));
  if (e > max_exp) e = max_exp;
  if (e < min_exp) e = min_exp;
  double c = std::round(std::ldexp(value, kFloatCoefBits - e));
  const double lim = (1 << (kFloatCoefBits - 1)) - 1;
  if (c > lim) c = lim;
  if (c < -lim) c = -lim;
  uint32_t coef = static_cast<uint32_t>(static_cast<int32_t>(c)) & ((1u << kFloatCoefBits) - 1);
  uint32_t uexp = static_cast<uint32_t>(e) & ((1u << kFloatExpBits) - 1);
  return (uexp << kFloatCoefBits) | coef;
}

size_t ReplyDataBytes(uint16_t reply_code) {
  switch (reply_code) {
    case kRpyNull:
      return 0;
    case kRpyNSources:
      return kNSourcesBytes;
    case kRpySourceData:
      return kSourceDataBytes;
    case kRpyTracking:
      return kTrackingBytes;
    case kRpyNtpData:
      return kNtpDataBytes;
    case kRpyAuthData:
      return kAuthDataBytes;
    case kRpyNtpSourceName:
      return kNtpSourceNameBytes;
    default:
      return 0;
  }
}

std::string EncodeRequest(uint16_t command, uint32_t sequence, uint16_t attempt, std::string_view data) {
  std::string out;
  PutU8(out, kProtocolVersion);
  PutU8(out, kPktTypeRequest);
  PutU8(out, 0);
  PutU8(out, 0);
  PutU16(out, command);
  PutU16(out, attempt);
  PutU32(out, sequence);
  PutU32(out, 0);
  PutU32(out, 0);
  out.append(data);
  size_t want_data = RequestDataBytes(command);
  if (out.size() < kRequestHeaderBytes + want_data) out.resize(kRequestHeaderBytes + want_data, '\0');
  // Pad so that the request is at least as long as the reply.
  size_t reply_len = kReplyHeaderBytes + ReplyDataBytes(ReplyFor(command));
  if (out.size() < reply_len) out.resize(reply_len, '\0');
  return out;
}

std::string EncodeTrackingRequest(uint32_t sequence, uint16_t attempt) {
  return EncodeRequest(kReqTracking, sequence, attempt, {});
}

std::string EncodeNSourcesRequest(uint32_t sequence, uint16_t attempt) {
  return EncodeRequest(kReqNSources, sequence, attempt, {});
}

std::string EncodeSourceDataRequest(int32_t index, uint32_t sequence, uint16_t attempt) {
  std::string data;
  PutU32(data, static_cast<uint32_t>(index));
  return EncodeRequest(kReqSourceData, sequence, attempt, data);
}

std::string EncodeNtpDataRequest(const IpAddr& ip, uint32_t sequence, uint16_t attempt) {
  std::string data;
  PutIpAddr(data, ip);
  return EncodeRequest(kReqNtpData, sequence, attempt, data);
}

std::string EncodeAuthDataRequest(const IpAddr& ip, uint32_t sequence, uint16_t attempt) {
  std::string data;
  PutIpAddr(data, ip);
  return EncodeRequest(kReqAuthData, sequence, attempt, data);
}

Result<ReplyHeader> DecodeReplyHeader(std::string_view packet) {
  if (packet.size() < kReplyHeaderBytes) {
    return Status::Corruption("chronyd reply truncated: " + std::to_string(packet.size()) +
                              " bytes, the header alone is " + std::to_string(kReplyHeaderBytes));
  }
  Reader r(packet);
  ReplyHeader h;
  h.version = r.U8();
  uint8_t type = r.U8();
  r.U16();
  h.command = r.U16();
  h.reply = r.U16();
  h.status = r.U16();
  r.U16();
  r.U16();
  r.U16();
  h.sequence = r.U32();
  if (type != kPktTypeReply) {
    return Status::Corruption("chronyd reply has packet type " + std::to_string(type) + ", expected 2");
  }
  if (h.version != kProtocolVersion) {
    return Status::NotSupported("chronyd speaks command protocol version " + std::to_string(h.version) +
                                ", resmeter speaks " + std::to_string(kProtocolVersion));
  }
  return h;
}

Result<std::string_view> CheckReply(std::string_view packet, uint16_t command, uint16_t expected_reply) {
  RESMETER_ASSIGN_OR_RETURN(ReplyHeader h, DecodeReplyHeader(packet));
  if (h.command != command) {
    return Status::Corruption("chronyd reply answers command " + std::to_string(h.command) + ", expected " +
                              std::to_string(command));
  }
  if (h.status != kSttSuccess) {
    std::string what = "chronyd refused command " + std::to_string(command) + ": " + StatusCodeName(h.status);
    switch (h.status) {
      case kSttUnauth:
        return Status::PermissionDenied(what);
      case kSttNoSuchSource:
        return Status::NotFound(what);
      case kSttBadPktVersion:
        return Status::NotSupported(what);
      default:
        return Status::IOError(what);
    }
  }
  if (h.reply != expected_reply) {
    return Status::Corruption("chronyd reply code " + std::to_string(h.reply) + " to command " +
                              std::to_string(command) + ", expected " + std::to_string(expected_reply));
  }
  return packet.substr(kReplyHeaderBytes);
}

Result<Tracking> DecodeTracking(std::string_view data) {
  RESMETER_RETURN_IF_ERROR(NeedBytes(data, kTrackingBytes, "tracking"));
  Reader r(data);
  Tracking t;
  t.ref_id = r.U32();
  t.ip = r.Ip();
  t.stratum = r.U16();
  t.leap_status = r.U16();
  t.ref_time_seconds = r.Timespec();
  t.current_correction_seconds = r.Float();
  t.last_offset_seconds = r.Float();
  t.rms_offset_seconds = r.Float();
  t.freq_ppm = r.Float();
  t.resid_freq_ppm = r.Float();
  t.skew_ppm = r.Float();
  t.root_delay_seconds = r.Float();
  t.root_dispersion_seconds = r.Float();
  t.last_update_interval_seconds = r.Float();
  if (t.leap_status > kLeapUnsynchronised) {
    return Status::Corruption("chronyd tracking reply has leap status " + std::to_string(t.leap_status));
  }
  return t;
}

Result<uint32_t> DecodeNSources(std::string_view data) {
  RESMETER_RETURN_IF_ERROR(NeedBytes(data, kNSourcesBytes, "n_sources"));
  Reader r(data);
  return r.U32();
}

Result<SourceData> DecodeSourceData(std::string_view data) {
  RESMETER_RETURN_IF_ERROR(NeedBytes(data, kSourceDataBytes, "source_data"));
  Reader r(data);
  SourceData s;
  s.ip = r.Ip();
  s.poll = r.I16();
  s.stratum = r.U16();
  s.state = r.U16();
  s.mode = r.U16();
  s.flags = r.U16();
  s.reachability = r.U16();
  s.since_sample_seconds = r.U32();
  s.orig_latest_meas_seconds = r.Float();
  s.latest_meas_seconds = r.Float();
  s.latest_meas_err_seconds = r.Float();
  return s;
}

Result<NtpData> DecodeNtpData(std::string_view data) {
  RESMETER_RETURN_IF_ERROR(NeedBytes(data, kNtpDataMinBytes, "ntp_data"));
  Reader r(data);
  NtpData n;
  n.remote = r.Ip();
  n.local = r.Ip();
  n.remote_port = r.U16();
  n.leap = r.U8();
  n.version = r.U8();
  n.mode = r.U8();
  n.stratum = r.U8();
  n.poll = r.I8();
  n.precision = r.I8();
  n.root_delay_seconds = r.Float();
  n.root_dispersion_seconds = r.Float();
  n.ref_id = r.U32();
  n.ref_time_seconds = r.Timespec();
  n.offset_seconds = r.Float();
  n.peer_delay_seconds = r.Float();
  n.peer_dispersion_seconds = r.Float();
  n.response_time_seconds = r.Float();
  n.jitter_asymmetry = r.Float();
  n.flags = r.U16();
  r.U8();  // tx timestamping source
  r.U8();  // rx timestamping source
  n.total_tx = r.U32();
  n.total_rx = r.U32();
  n.total_valid_rx = r.U32();
  return n;
}

Result<AuthData> DecodeAuthData(std::string_view data) {
  RESMETER_RETURN_IF_ERROR(NeedBytes(data, kAuthDataBytes, "auth_data"));
  Reader r(data);
  AuthData a;
  a.mode = r.U16();
  a.key_type = r.U16();
  a.key_id = r.U32();
  a.key_length = r.U16();
  a.ke_attempts = r.U16();
  a.last_ke_ago_seconds = r.U32();
  a.cookies = r.U16();
  a.cookie_length = r.U16();
  a.nak = r.U16();
  return a;
}

std::string EncodeNtpSourceNameRequest(const IpAddr& ip, uint32_t sequence, uint16_t attempt) {
  std::string data;
  PutIpAddr(data, ip);
  return EncodeRequest(kReqNtpSourceName, sequence, attempt, data);
}

Result<std::string> DecodeNtpSourceName(std::string_view data) {
  RESMETER_RETURN_IF_ERROR(NeedBytes(data, kNtpSourceNameBytes, "ntp_source_name"));
  std::string name(data.substr(0, kNtpSourceNameBytes));
  name = name.substr(0, name.find('\0'));
  if (name.empty()) return Status::Corruption("chronyd reply ntp_source_name is empty");
  for (unsigned char c : name) {
    if (c < 0x21 || c > 0x7e)
      return Status::Corruption("chronyd reply ntp_source_name is not printable ASCII");
  }
  return name;
}

const char* LeapStatusName(uint16_t leap) {
  switch (leap) {
    case kLeapNormal:
      return "normal";
    case kLeapInsert:
      return "insert second";
    case kLeapDelete:
      return "delete second";
    default:
      return "unsynchronised";
  }
}

const char* SourceStateName(uint16_t state) {
  switch (state) {
    case kStateSelected:
      return "selected";
    case kStateNonSelectable:
      return "unselectable";
    case kStateFalseTicker:
      return "falseticker";
    case kStateJittery:
      return "jittery";
    case kStateUnselected:
      return "unselected";
    case kStateSelectable:
      return "selectable";
    default:
      return "unknown";
  }
}

const char* AuthModeName(uint16_t mode) {
  switch (mode) {
    case kAuthNone:
      return "none";
    case kAuthSymmetric:
      return "symmetric";
    case kAuthNts:
      return "nts";
    default:
      return "unknown";
  }
}

std::string StatusCodeName(uint16_t status) {
  switch (status) {
    case kSttSuccess:
      return "success";
    case kSttFailed:
      return "failed";
    case kSttUnauth:
      return "unauthorised";
    case kSttInvalid:
      return "invalid command";
    case kSttNoSuchSource:
      return "no such source";
    case kSttInactive:
      return "inactive";
    case kSttBadPktVersion:
      return "bad protocol version";
    case kSttBadPktLength:
      return "bad packet length";
    default:
      return "status " + std::to_string(status);
  }
}

}  // namespace resmeter::chrony
