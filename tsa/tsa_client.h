// TsaClient: asks one time-stamping authority (RFC 3161 over HTTP, POST of
// application/timestamp-query) to stamp a SHA-256 hash, with OpenSSL's HTTP
// client: one overall timeout, a cap on the reply size, a fresh nonce. The
// reply must grant a token that stamps the hash with the nonce; its
// signature is not checked here (the buyer's audit does that offline with
// its own anchors; the agent keeps the token either way).
//
// Only http:// URLs: a token is signed by the TSA, so the transport adds
// nothing a buyer relies on. Blocking; call from a thread that may wait.
// Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "tsa/timestamp_token.h"

namespace resmeter {

struct TsaEndpoint {
  std::string name;  // what policies and findings call it ("freetsa", "acme-tsa")
  std::string url;   // http://host[:port]/path
};

struct TsaRequestOptions {
  int timeout_seconds = 10;  // connect, send and receive, all together (>= 1)
  size_t max_reply_bytes = kMaxTimestampTokenBytes;
};

// What one TSA returned for one hash.
struct TsaStamp {
  std::string tsa;        // the endpoint's name
  std::string token_der;  // the TimeStampToken
  std::string nonce_hex;  // the nonce sent (and found in the token)
  TimestampTokenInfo info;
};

// InvalidArgument for a URL that is not http://host[:port]/path; IOError /
// DeadlineExceeded when the TSA cannot be reached or answers too slowly
// (the message names the TSA); Corruption for a reply that is not a token;
// VerifyFailed when the TSA refused or its token stamps another hash or nonce.
Result<TsaStamp> RequestTimestamp(const TsaEndpoint& tsa, std::string_view sha256,
                                  const TsaRequestOptions& options);

// Checks a URL the way RequestTimestamp will use it (config validation).
Status CheckTsaUrl(const std::string& url);

// Parses a configured TSA, "NAME=URL" (or a bare URL, named by it);
// InvalidArgument naming the entry when the URL is unusable.
Result<TsaEndpoint> ParseTsaEntry(const std::string& entry);

}  // namespace resmeter
