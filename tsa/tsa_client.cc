#include "tsa/tsa_client.h"

#include <openssl/http.h>

#include <algorithm>
#include <chrono>

#include "tsa/openssl_handles.h"
#include "tsa/timestamp_request.h"

namespace resmeter {

namespace {

struct ParsedUrl {
  std::string host;
  std::string port;
  std::string path;
};

Result<ParsedUrl> ParseTsaUrl(const std::string& url) {
  char* host = nullptr;
  char* port = nullptr;
  char* path = nullptr;
  int use_ssl = 0;
  if (OSSL_HTTP_parse_url(url.c_str(), &use_ssl, nullptr, &host, &port, nullptr, &path, nullptr, nullptr) !=
      1) {
    ERR_clear_error();
    return Status::InvalidArgument("TSA URL '" + url + "' is not http://host[:port]/path");
  }
  ParsedUrl out{host ? host : "", port ? port : "80", path ? path : "/"};
  OPENSSL_free(host);
  OPENSSL_free(port);
  OPENSSL_free(path);
  if (use_ssl || url.rfind("http://", 0) != 0) {
    return Status::InvalidArgument("TSA URL '" + url +
                                   "': only http:// is supported (tokens are signed by the TSA)");
  }
  if (out.host.empty()) return Status::InvalidArgument("TSA URL '" + url + "' has no host");
  return out;
}

}  // namespace

Status CheckTsaUrl(const std::string& url) { return ParseTsaUrl(url).status(); }

Result<TsaEndpoint> ParseTsaEntry(const std::string& entry) {
  TsaEndpoint out;
  const size_t eq = entry.find('=');
  const size_t scheme = entry.find("://");
  if (eq != std::string::npos && (scheme == std::string::npos || eq < scheme)) {
    out.name = entry.substr(0, eq);
    out.url = entry.substr(eq + 1);
  } else {
    out.name = entry;
    out.url = entry;
  }
  if (out.name.empty()) return Status::InvalidArgument("time.tsa entry '" + entry + "' has an empty name");
  Status s = CheckTsaUrl(out.url);
  if (!s.ok()) return s.WithContext("time.tsa entry '" + out.name + "'");
  return out;
}

Result<TsaStamp> RequestTimestamp(const TsaEndpoint& tsa, std::string_view sha256,
                                  const TsaRequestOptions& options) {
  RESMETER_ASSIGN_OR_RETURN(ParsedUrl url, ParseTsaUrl(tsa.url));
  RESMETER_ASSIGN_OR_RETURN(TimestampRequest request, MakeTimestampRequest(sha256));
  BioPtr body(BIO_new_mem_buf(request.der.data(), static_cast<int>(request.der.size())));
  if (!body) return Status::IOError("TSA " + tsa.name + ": out of memory");

  const int timeout = std::max(1, options.timeout_seconds);
  const auto started = std::chrono::steady_clock::now();
  // proxy NULL: OpenSSL honours http_proxy / no_proxy from the environment.
  BioPtr reply(OSSL_HTTP_transfer(nullptr, url.host.c_str(), url.port.c_str(), url.path.c_str(), 0, nullptr,
                                  nullptr, nullptr, nullptr, nullptr, nullptr, 0, nullptr,
                                  "application/timestamp-query", body.get(), nullptr, /*expect_asn1=*/1,
                                  options.max_reply_bytes, timeout,
                                  /*keep_alive=*/0));
  if (!reply) {
    const std::string why = TakeOpenSslError("no reply");
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string msg = "TSA " + tsa.name + " (" + tsa.url + "): " + why;
    if (waited >= timeout - 0.05)
      return Status::DeadlineExceeded(msg + " (timeout " + std::to_string(timeout) + " s)");
    return Status::IOError(msg);
  }
  std::string der;
  char buf[4096];
  int n = 0;
  while ((n = BIO_read(reply.get(), buf, sizeof buf)) > 0) {
    der.append(buf, static_cast<size_t>(n));
    if (der.size() > options.max_reply_bytes)
      return Status::Corruption("TSA " + tsa.name + ": reply over the size limit");
  }
  ERR_clear_error();
  auto token = TimestampTokenFromResponse(der);
  if (!token.ok()) return token.status().WithContext("TSA " + tsa.name);
  auto info = ParseTimestampToken(*token);
  if (!info.ok()) return info.status().WithContext("TSA " + tsa.name);
  if (info->imprint_algorithm != "SHA256" || info->imprint != sha256) {
    return Status::VerifyFailed("TSA " + tsa.name + ": the token stamps another hash");
  }
  if (info->nonce_hex != request.nonce_hex) {
    return Status::VerifyFailed("TSA " + tsa.name + ": the token carries another nonce than the request");
  }
  TsaStamp out;
  out.tsa = tsa.name;
  out.token_der = std::move(token).value();
  out.nonce_hex = request.nonce_hex;
  out.info = std::move(info).value();
  return out;
}

}  // namespace resmeter
