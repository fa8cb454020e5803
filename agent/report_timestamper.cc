#include "agent/report_timestamper.h"

#include <cstdio>
#include <future>
#include <vector>

#include "core/base64url.h"
#include "core/strings.h"
#include "report/report_timestamps.h"
#include "tsa/tsa_client.h"

namespace resmeter {

bool ReportTimestamper::Enabled(const Config& config) {
  return config.global.Bool("time.tsa_stamp_reports") && !config.global.Strings("time.tsa").empty();
}

void ReportTimestamper::Stamp(const Config& config, nlohmann::json& claims) {
  if (Enabled(config)) claims[kReportTimestampsMember] = Entries(config, claims.dump());
}

void ReportTimestamper::Stamp(const Config& config, nlohmann::ordered_json& claims) {
  if (Enabled(config)) claims[kReportTimestampsMember] = Entries(config, claims.dump());
}

nlohmann::json ReportTimestamper::Entries(const Config& config, const std::string& claims_text) {
  nlohmann::json entries = nlohmann::json::array();
  // The verifier hashes the claims as it parses them from the signed
  // payload; parsing the same text gives the same object here.
  auto imprint = ReportImprint(nlohmann::json::parse(claims_text));
  TsaRequestOptions options;
  options.timeout_seconds = static_cast<int>(config.global.Int("time.tsa_timeout_seconds"));
  const double retry_seconds = config.global.Double("time.tsa_report_retry_seconds");

  struct Asked {
    size_t slot;  // the entry's place: config order
    TsaEndpoint tsa;
    std::future<Result<TsaStamp>> reply;
  };
  std::vector<Asked> asked;
  const std::vector<std::string> configured = config.global.Strings("time.tsa");
  std::vector<nlohmann::json> slots(configured.size());
  for (size_t i = 0; i < configured.size(); ++i) {
    const std::string& entry = configured[i];
    auto tsa = ParseTsaEntry(entry);
    if (!tsa.ok()) {  // config validation rejects these; kept for a hand-made Config
      slots[i] = {{"tsa", entry}, {"error", tsa.status().message()}};
      continue;
    }
    if (!imprint.ok()) {
      slots[i] = {{"tsa", tsa->name}, {"error", imprint.status().message()}};
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = failed_.find(tsa->url);
      const double now = env_->MonotonicSeconds();
      if (it != failed_.end() && now - it->second.at_monotonic_seconds < retry_seconds) {
        char ago[32];
        std::snprintf(ago, sizeof ago, "%.0f", now - it->second.at_monotonic_seconds);
        slots[i] = {
            {"tsa", tsa->name},
            {"error", "not asked: failed " + std::string(ago) + " s ago (retry after " +
                          std::to_string(static_cast<long>(retry_seconds)) + " s): " + it->second.reason}};
        continue;
      }
    }
    Asked a{i, *tsa, {}};
    a.reply = std::async(std::launch::async, [tsa = *tsa, sha = *imprint, options] {
      return RequestTimestamp(tsa, sha, options);
    });
    asked.push_back(std::move(a));
  }
  const std::string imprint_hex = imprint.ok() ? HexEncode(*imprint) : "";
  for (Asked& a : asked) {
    Result<TsaStamp> stamp = a.reply.get();  // each bounded by its own timeout
    std::lock_guard<std::mutex> lock(mu_);
    if (!stamp.ok()) {
      failed_[a.tsa.url] = {env_->MonotonicSeconds(), stamp.status().message()};
      slots[a.slot] = {{"tsa", a.tsa.name}, {"error", stamp.status().message()}};
      continue;
    }
    failed_.erase(a.tsa.url);
    slots[a.slot] = {{"tsa", a.tsa.name},
                     {"token", Base64UrlEncode(stamp->token_der)},
                     {"nonce_hex", stamp->nonce_hex},
                     {"imprint", imprint_hex}};
  }
  for (nlohmann::json& e : slots) entries.push_back(std::move(e));
  return entries;
}

}  // namespace resmeter
