#include "peer/net_protocol.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "core/base64url.h"
#include "core/strings.h"
#include "core/untrusted_json.h"
#include "peer/net_socket.h"

namespace resmeter {
namespace {

// splitmix64 step, used to expand a 64-bit seed into xoshiro state.
uint64_t SplitMix(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// A short printable excerpt of untrusted bytes for error messages.
std::string Excerpt(const std::string& bytes, size_t max = 24) {
  std::string out;
  for (char c : bytes.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '.';
  return out;
}

}  // namespace

Status SendFrame(int fd, const nlohmann::json& msg, double deadline, const std::atomic<bool>* cancel) {
  std::string body = msg.dump();
  if (body.size() > kMaxFrameBytes) {
    return Status::InvalidArgument("frame of " + std::to_string(body.size()) + " bytes exceeds the limit");
  }
  uint32_t n = static_cast<uint32_t>(body.size());
  unsigned char header[4] = {static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                             static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  std::string frame(reinterpret_cast<char*>(header), 4);
  frame += body;
  std::string what = "'";
  what.append(msg.value("type", std::string("?"))).append("' frame");
  return WriteAll(fd, frame.data(), frame.size(), deadline, cancel, what);
}

Result<nlohmann::json> RecvFrame(int fd, double deadline, const std::atomic<bool>* cancel,
                                 const std::string& expect_type) {
  const std::string what = expect_type.empty() ? "control frame" : "'" + expect_type + "' frame";
  unsigned char header[4];
  RESMETER_RETURN_IF_ERROR(ReadFull(fd, header, 4, deadline, cancel, what));
  uint32_t n = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) | (uint32_t{header[2]} << 8) | header[3];
  if (n == 0 || n > kMaxFrameBytes) {
    return Status::Corruption("garbage instead of " + what + ": length " + std::to_string(n) +
                              " outside 1.." + std::to_string(kMaxFrameBytes) + " (bytes '" +
                              Excerpt(std::string(reinterpret_cast<char*>(header), 4)) + "')");
  }
  std::string body(n, '\0');
  RESMETER_RETURN_IF_ERROR(ReadFull(fd, body.data(), n, deadline, cancel, what));
  JsonLimits limits;  // a peer's frame: bounded nesting before any parse or copy
  limits.max_bytes = kMaxFrameBytes;
  limits.what = "peer " + what;
  auto parsed = ParseUntrustedJson(body, limits);
  if (!parsed.ok() && parsed.status().code() == Status::Code::kInvalidArgument) {  // a bound, not a syntax error
    return Status::Corruption("garbage instead of " + what + ": " + parsed.status().message());
  }
  nlohmann::json msg = parsed.ok() ? std::move(*parsed) : nlohmann::json();
  if (!msg.is_object() || !msg.contains("type") || !msg["type"].is_string()) {
    return Status::Corruption("garbage instead of " + what + ": not a JSON object with a type ('" +
                              Excerpt(body) + "')");
  }
  const std::string type = msg["type"].get<std::string>();
  if (type == "error") {
    std::string m = msg.contains("message") && msg["message"].is_string() ? msg["message"].get<std::string>() : "?";
    return Status::IOError("peer error: " + Excerpt(m, 200));
  }
  if (!expect_type.empty() && type != expect_type) {
    return Status::Corruption("protocol error: expected '" + expect_type + "' frame, got '" + type.substr(0, 40) + "'");
  }
  return msg;
}

void SendErrorFrame(int fd, const std::string& msg, double deadline) {
  (void)SendFrame(fd, {{"type", "error"}, {"message", msg}}, deadline, nullptr);
}

Result<std::string> GetString(const nlohmann::json& msg, const std::string& key) {
  auto it = msg.find(key);
  if (it == msg.end() || !it->is_string()) return Status::Corruption("protocol error: field '" + key + "' missing or not a string");
  return it->get<std::string>();
}

Result<int64_t> GetInt(const nlohmann::json& msg, const std::string& key) {
  auto it = msg.find(key);
  if (it == msg.end() || !it->is_number_integer()) {
    return Status::Corruption("protocol error: field '" + key + "' missing or not an integer");
  }
  return it->get<int64_t>();
}

Result<double> GetNumber(const nlohmann::json& msg, const std::string& key) {
  auto it = msg.find(key);
  if (it == msg.end() || !it->is_number() || !std::isfinite(it->get<double>())) {
    return Status::Corruption("protocol error: field '" + key + "' missing or not a number");
  }
  return it->get<double>();
}

Result<std::vector<uint64_t>> GetCounts(const nlohmann::json& msg, const std::string& key, size_t want) {
  auto it = msg.find(key);
  if (it == msg.end() || !it->is_array() || it->size() != want) {
    return Status::Corruption("protocol error: field '" + key + "' is not an array of " + std::to_string(want) + " counts");
  }
  std::vector<uint64_t> out;
  for (const auto& v : *it) {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
      return Status::Corruption("protocol error: field '" + key + "' holds a non-count");
    }
    out.push_back(v.get<uint64_t>());
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t r = ::getrandom(raw.data() + got, bytes - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "resmeter: fatal: getrandom failed\n");
      std::abort();
    }
    got += static_cast<size_t>(r);
  }
  return HexEncode(raw);
}

PayloadGenerator::PayloadGenerator(const std::string& seed) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the seed, then splitmix
  for (unsigned char c : seed) h = (h ^ c) * 0x100000001b3ULL;
  for (auto& s : s_) s = SplitMix(&h);
}

uint64_t PayloadGenerator::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

void PayloadGenerator::Fill(char* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = Next();
    std::memcpy(out + i, &v, 8);
  }
  if (i < n) {
    uint64_t v = Next();
    std::memcpy(out + i, &v, n - i);
  }
}

std::string CanonicalSummary(const nlohmann::json& summary) { return summary.dump(); }

Result<std::string> JwsCompactPayload(const std::string& jws) {
  auto parts = Split(jws, '.');
  if (parts.size() != 3) return Status::Corruption("JWS compact serialization needs 3 parts, got " + std::to_string(parts.size()));
  auto payload = Base64UrlDecode(parts[1]);
  if (!payload) return Status::Corruption("JWS payload is not base64url");
  return *payload;
}

double NearestRank(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

RttStats ComputeRttStats(std::vector<double> samples) {
  RttStats s;
  std::sort(samples.begin(), samples.end());
  s.count = samples.size();
  if (samples.empty()) return s;
  s.min = samples.front();
  s.max = samples.back();
  s.p50 = NearestRank(samples, 50);
  s.p99 = NearestRank(samples, 99);
  double sum = 0;
  for (double v : samples) sum += v;
  s.mean = sum / static_cast<double>(samples.size());
  return s;
}

}  // namespace resmeter
