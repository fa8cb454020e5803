// chrony_protocol: encoding of requests to, and decoding of replies from,
// chronyd's command socket (chrony's "candm" protocol, version 6, as spoken by
// chronyc of chrony 4.x). Pure functions over byte strings; no I/O.
//
// Wire facts (all integers big-endian):
// - Request: a 20-byte header {u8 version=6, u8 pkt_type=1, u8 0, u8 0,
//   u16 command, u16 attempt, u32 sequence, u32 0, u32 0}, the command's data,
//   then zero padding so the request is never shorter than the reply it asks
//   for (chronyd refuses shorter requests with STT_BADPKTLENGTH).
// - Reply: a 28-byte header {u8 version, u8 pkt_type=2, u8, u8, u16 command,
//   u16 reply code, u16 status, 3 x u16 pad, u32 sequence (echoed), 2 x u32
//   pad}, then the reply's data.
// - Float: 32 bits, a 7-bit signed exponent on top of a 25-bit signed
//   coefficient (no hidden bit): value = coef * 2^(exp - 25).
// - Timespec: u32 seconds-high (0x7fffffff means 0), u32 seconds-low, u32 ns.
// - IPAddr: 16 address bytes (IPv4 in the first 4), u16 family (0 unspec,
//   1 IPv4, 2 IPv6, 3 id), u16 pad: 20 bytes.
//
// Thread-safe: everything here is stateless.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace resmeter::chrony {

inline constexpr uint8_t kProtocolVersion = 6;
inline constexpr size_t kRequestHeaderBytes = 20;
inline constexpr size_t kReplyHeaderBytes = 28;

// Request codes (command field of a request).
enum RequestCode : uint16_t {
  kReqNSources = 14,
  kReqSourceData = 15,
  kReqTracking = 33,
  kReqNtpData = 57,
  kReqNtpSourceName = 65,
  kReqAuthData = 67,
};

// Reply codes (reply field of a reply).
enum ReplyCode : uint16_t {
  kRpyNull = 1,
  kRpyNSources = 2,
  kRpySourceData = 3,
  kRpyTracking = 5,
  kRpyNtpData = 16,
  kRpyNtpSourceName = 19,
  kRpyAuthData = 20,
};

// Status codes (status field of a reply); the ones a monitoring client meets.
enum StatusCode : uint16_t {
  kSttSuccess = 0,
  kSttFailed = 1,
  kSttUnauth = 2,
  kSttInvalid = 3,
  kSttNoSuchSource = 4,
  kSttInactive = 15,
  kSttBadPktVersion = 18,
  kSttBadPktLength = 19,
};

// Leap status values in tracking and NTP data.
enum LeapStatus : uint16_t { kLeapNormal = 0, kLeapInsert = 1, kLeapDelete = 2, kLeapUnsynchronised = 3 };

// Source states in source data (chronyc's '*', '?', 'x', '~', '-', '+').
enum SourceState : uint16_t {
  kStateSelected = 0,
  kStateNonSelectable = 1,
  kStateFalseTicker = 2,
  kStateJittery = 3,
  kStateUnselected = 4,
  kStateSelectable = 5,
};

// Source modes in source data.
enum SourceMode : uint16_t { kModeClient = 0, kModePeer = 1, kModeRefclock = 2 };

// Authentication modes in auth data.
enum AuthMode : uint16_t { kAuthNone = 0, kAuthSymmetric = 1, kAuthNts = 2 };

// NTP data flag: the last response from the source was authenticated.
inline constexpr uint16_t kNtpFlagAuthenticated = 0x8000;
inline constexpr uint16_t kNtpFlagInterleaved = 0x4000;

// An address as chronyd encodes it.
struct IpAddr {
  uint16_t family = 0;  // 0 unspec, 1 IPv4, 2 IPv6, 3 id (refclock)
  std::array<uint8_t, 16> bytes{};

  // "127.0.0.1", "::1", "ID#0000000001", or "" when unspecified.
  std::string ToString() const;
  bool operator==(const IpAddr&) const = default;
};
// Parses a numeric IPv4/IPv6 address; InvalidArgument otherwise.
Result<IpAddr> ParseIpAddr(const std::string& text);

// REQ_TRACKING -> RPY_TRACKING.
struct Tracking {
  uint32_t ref_id = 0;
  IpAddr ip;
  uint16_t stratum = 0;
  uint16_t leap_status = kLeapUnsynchronised;
  double ref_time_seconds = 0;            // wall-clock time of the last clock update (Unix seconds)
  double current_correction_seconds = 0;  // system time minus true time being slewed away
  double last_offset_seconds = 0;
  double rms_offset_seconds = 0;
  double freq_ppm = 0;
  double resid_freq_ppm = 0;
  double skew_ppm = 0;
  double root_delay_seconds = 0;
  double root_dispersion_seconds = 0;
  double last_update_interval_seconds = 0;
};

// REQ_SOURCE_DATA -> RPY_SOURCE_DATA.
struct SourceData {
  IpAddr ip;
  int16_t poll = 0;
  uint16_t stratum = 0;
  uint16_t state = 0;
  uint16_t mode = 0;
  uint16_t flags = 0;
  uint16_t reachability = 0;
  uint32_t since_sample_seconds = 0;
  double orig_latest_meas_seconds = 0;
  double latest_meas_seconds = 0;
  double latest_meas_err_seconds = 0;
};

// REQ_NTP_DATA -> RPY_NTP_DATA (the fields resmeter uses).
struct NtpData {
  IpAddr remote;
  IpAddr local;
  uint16_t remote_port = 0;
  uint8_t leap = 0;
  uint8_t version = 0;
  uint8_t mode = 0;
  uint8_t stratum = 0;
  int8_t poll = 0;
  int8_t precision = 0;
  double root_delay_seconds = 0;
  double root_dispersion_seconds = 0;
  uint32_t ref_id = 0;
  double ref_time_seconds = 0;
  double offset_seconds = 0;
  double peer_delay_seconds = 0;
  double peer_dispersion_seconds = 0;
  double response_time_seconds = 0;
  double jitter_asymmetry = 0;
  uint16_t flags = 0;
  uint32_t total_tx = 0;
  uint32_t total_rx = 0;
  uint32_t total_valid_rx = 0;
};

// REQ_AUTH_DATA -> RPY_AUTH_DATA.
struct AuthData {
  uint16_t mode = kAuthNone;
  uint16_t key_type = 0;
  uint32_t key_id = 0;
  uint16_t key_length = 0;
  uint16_t ke_attempts = 0;
  uint32_t last_ke_ago_seconds = 0;
  uint16_t cookies = 0;
  uint16_t cookie_length = 0;
  uint16_t nak = 0;
};

// The header fields of a reply and a view of its data.
struct ReplyHeader {
  uint8_t version = 0;
  uint16_t command = 0;
  uint16_t reply = 0;
  uint16_t status = 0;
  uint32_t sequence = 0;
};

// Decodes chrony's 32-bit float (given in host order after ntohl).
double DecodeFloat(uint32_t raw);
// Encodes a double into chrony's float (for tests and fixtures); saturates.
uint32_t EncodeFloat(double value);

// Length in bytes of the reply data for a reply code, or 0 if unknown.
size_t ReplyDataBytes(uint16_t reply_code);

// Builds a complete, padded request packet. `data` is the command's own data
// (empty for tracking and n_sources).
std::string EncodeRequest(uint16_t command, uint32_t sequence, uint16_t attempt, std::string_view data);
std::string EncodeTrackingRequest(uint32_t sequence, uint16_t attempt);
std::string EncodeNSourcesRequest(uint32_t sequence, uint16_t attempt);
std::string EncodeSourceDataRequest(int32_t index, uint32_t sequence, uint16_t attempt);
std::string EncodeNtpDataRequest(const IpAddr& ip, uint32_t sequence, uint16_t attempt);
std::string EncodeAuthDataRequest(const IpAddr& ip, uint32_t sequence, uint16_t attempt);
std::string EncodeNtpSourceNameRequest(const IpAddr& ip, uint32_t sequence, uint16_t attempt);

// Decodes a reply header. Corruption when shorter than the header, not a
// reply packet, or of another protocol version.
Result<ReplyHeader> DecodeReplyHeader(std::string_view packet);

// Checks a whole reply against the request it answers: the command, the
// chronyd status (turned into a Status: kSttUnauth -> PermissionDenied,
// kSttNoSuchSource -> NotFound, kSttBadPktVersion -> NotSupported, others
// IOError), the reply code and the data length. Returns the reply data.
Result<std::string_view> CheckReply(std::string_view packet, uint16_t command, uint16_t expected_reply);

// Decode the data part (after the 28-byte header) of each reply type;
// Corruption naming the reply when the data is too short.
Result<Tracking> DecodeTracking(std::string_view data);
Result<uint32_t> DecodeNSources(std::string_view data);
Result<SourceData> DecodeSourceData(std::string_view data);
Result<NtpData> DecodeNtpData(std::string_view data);
Result<AuthData> DecodeAuthData(std::string_view data);
// RPY_NTP_SOURCE_NAME: the name the source was configured with (up to the
// first NUL of 256 bytes); Corruption when empty or not printable ASCII.
Result<std::string> DecodeNtpSourceName(std::string_view data);

// Human names: "normal", "insert second", "delete second", "unsynchronised".
const char* LeapStatusName(uint16_t leap);
// "selected", "unselectable", "falseticker", "jittery", "unselected", "selectable".
const char* SourceStateName(uint16_t state);
// "none", "symmetric", "nts".
const char* AuthModeName(uint16_t mode);
// A chronyd status code as text ("unauthorised", "no such source", ...).
std::string StatusCodeName(uint16_t status);

}  // namespace resmeter::chrony
