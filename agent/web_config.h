// WebConfig: TLS and basic authentication for the agent's HTTP server, read
// from a YAML file in the Prometheus exporter-toolkit "web config" format
// (agent.web_config_file), plus one resmeter key, auth_paths:
//
//   tls_server_config:
//     cert_file: /etc/resmeter/tls/server.crt   # PEM chain, server first
//     key_file: /etc/resmeter/tls/server.key
//     client_auth_type: RequireAndVerifyClientCert  # NoClientCert (default),
//         # RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven
//     client_ca_file: /etc/resmeter/tls/clients-ca.crt
//     min_version: TLS12                        # TLS12 (default) or TLS13
//     max_version: TLS13
//   basic_auth_users:
//     prometheus: $2y$10$...                    # bcrypt hash (htpasswd -B)
//   auth_paths: [/v1/]                          # resmeter: paths needing a user
//
// auth_paths entries match a path exactly, or every path under them when
// they end in '/'. Without auth_paths, once users exist every path needs one
// except /metrics, /healthz and /. Relative file names are relative to the
// web config file's directory. Errors are "FILE:LINE: ..." one-liners.
//
// WebConfigWatcher holds the current WebConfig and re-reads the file when its
// mtime or size changes (checked at most once a second, on use); a file that
// no longer parses keeps the previous config and is reported once. Current()
// is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace resmeter {

enum class ClientAuthType {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

struct WebTlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // required by the two Verify* client auth types
  ClientAuthType client_auth = ClientAuthType::kNoClientCert;
  int min_version = 0x0303;  // TLS1_2_VERSION
  int max_version = 0;       // 0: the highest the library supports
};

struct WebConfig {
  std::string source;                                   // the file it came from
  std::optional<WebTlsConfig> tls;                      // absent: plain HTTP
  std::map<std::string, std::string> basic_auth_users;  // name -> bcrypt hash
  std::optional<std::vector<std::string>> auth_paths;   // absent: the default set

  // True when a request for `path` must carry a valid user.
  bool RequiresAuth(const std::string& path) const;
};

// Parses and validates the YAML text of a web config (files named in it must
// exist and be readable). InvalidArgument "SOURCE:LINE: ..." on any error.
Result<WebConfig> ParseWebConfig(const std::string& yaml_text, const std::string& source);
// Reads and parses `path`. NotFound/IOError naming the path when unreadable.
Result<WebConfig> LoadWebConfig(const std::string& path);

// Sets up an OpenSSL SSL_CTX (passed as void* to keep OpenSSL out of this
// header) from `tls`: versions, certificate chain, key, client CA and
// verification mode. InvalidArgument naming the file that failed.
Status ConfigureTlsContext(void* ssl_ctx, const WebTlsConfig& tls);

// True when `password` matches the bcrypt `hash` ($2a$/$2b$/$2y$), compared
// in constant time. Costs one bcrypt computation.
bool CheckBcryptPassword(const std::string& password, const std::string& hash);

class WebConfigWatcher {
 public:
  // Loads `path` now; the error is the file's (exit 2 at start).
  static Result<std::unique_ptr<WebConfigWatcher>> Open(const std::string& path);

  // The current config, re-read first when the file changed (at most once a second).
  std::shared_ptr<const WebConfig> Current();
  // Checks a user's credentials against the current users. Successful
  // checks are cached (bounded), so bcrypt runs once per user and password.
  bool Authenticate(const WebConfig& config, const std::string& user, const std::string& password);

 private:
  explicit WebConfigWatcher(std::string path) : path_(std::move(path)) {}
  // The file's mtime and size as one fingerprint; empty when it cannot be stat'ed.
  std::string Fingerprint() const;

  const std::string path_;
  std::mutex mu_;
  std::shared_ptr<const WebConfig> current_;
  std::string fingerprint_;
  double last_check_seconds_ = 0;
  std::string last_error_;
  std::map<std::string, std::string> auth_cache_;  // sha256(user, password, hash) -> user
};

}  // namespace resmeter
