#include "agent/web_config.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/strings.h"
#include "core/yaml_checks.h"

namespace resmeter {
namespace {

constexpr size_t kMaxAuthCacheEntries = 256;

std::string Where(const std::string& source, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return source + ": ";
  return source + ":" + std::to_string(mark.line + 1) + ": ";
}

double MonotonicSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// A string scalar or an error naming the key.
Result<std::string> Scalar(const YAML::Node& node, const std::string& source, const std::string& key) {
  if (!node.IsScalar())
    return Status::InvalidArgument(Where(source, node) + "key '" + key + "': expected a string");
  return node.Scalar();
}

// `file` made absolute against the web config's directory, and checked readable.
Result<std::string> ConfigFile(const YAML::Node& node, const std::string& source, const std::string& key) {
  RESMETER_ASSIGN_OR_RETURN(std::string file, Scalar(node, source, key));
  if (file.empty())
    return Status::InvalidArgument(Where(source, node) + "key '" + key + "': empty file name");
  if (file[0] != '/') {
    const size_t slash = source.rfind('/');
    file = (slash == std::string::npos ? std::string(".") : source.substr(0, slash)) + "/" + file;
  }
  if (::access(file.c_str(), R_OK) != 0) {
    return Status::InvalidArgument(Where(source, node) + "key '" + key + "': cannot read " + file + ": " +
                                   std::strerror(errno));
  }
  return file;
}

Result<int> TlsVersion(const YAML::Node& node, const std::string& source, const std::string& key) {
  RESMETER_ASSIGN_OR_RETURN(std::string v, Scalar(node, source, key));
  if (v == "TLS12") return TLS1_2_VERSION;
  if (v == "TLS13") return TLS1_3_VERSION;
  return Status::InvalidArgument(Where(source, node) + "key '" + key + "': '" + v +
                                 "' is not TLS12 or TLS13 (older versions are not offered)");
}

Result<ClientAuthType> ClientAuth(const YAML::Node& node, const std::string& source) {
  RESMETER_ASSIGN_OR_RETURN(std::string v, Scalar(node, source, "tls_server_config.client_auth_type"));
  if (v == "NoClientCert" || v.empty()) return ClientAuthType::kNoClientCert;
  if (v == "RequestClientCert") return ClientAuthType::kRequestClientCert;
  if (v == "RequireAnyClientCert") return ClientAuthType::kRequireAnyClientCert;
  if (v == "VerifyClientCertIfGiven") return ClientAuthType::kVerifyClientCertIfGiven;
  if (v == "RequireAndVerifyClientCert") return ClientAuthType::kRequireAndVerifyClientCert;
  return Status::InvalidArgument(Where(source, node) + "key 'tls_server_config.client_auth_type': '" + v +
                                 "' is not one of NoClientCert, RequestClientCert, RequireAnyClientCert, "
                                 "VerifyClientCertIfGiven, RequireAndVerifyClientCert");
}

// Loads the certificate chain and key into a throwaway context: the errors a
// handshake would meet, now, with the file names.
Status CheckTlsFiles(const WebTlsConfig& tls, const std::string& where) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return Status::IOError(where + "cannot create a TLS context");
  Status st = ConfigureTlsContext(ctx, tls);
  SSL_CTX_free(ctx);
  if (!st.ok()) return Status::InvalidArgument(where + st.message());
  return Status::Ok();
}

Result<WebTlsConfig> ParseTls(const YAML::Node& node, const std::string& source) {
  if (!node.IsMap()) {
    return Status::InvalidArgument(Where(source, node) + "key 'tls_server_config': expected a mapping");
  }
  WebTlsConfig tls;
  bool have_cert = false, have_key = false;
  for (const auto& e : node) {
    const std::string key = e.first.Scalar();
    const std::string full = "tls_server_config." + key;
    if (key == "cert_file") {
      RESMETER_ASSIGN_OR_RETURN(tls.cert_file, ConfigFile(e.second, source, full));
      have_cert = true;
    } else if (key == "key_file") {
      RESMETER_ASSIGN_OR_RETURN(tls.key_file, ConfigFile(e.second, source, full));
      have_key = true;
    } else if (key == "client_ca_file") {
      RESMETER_ASSIGN_OR_RETURN(tls.client_ca_file, ConfigFile(e.second, source, full));
    } else if (key == "client_auth_type") {
      RESMETER_ASSIGN_OR_RETURN(tls.client_auth, ClientAuth(e.second, source));
    } else if (key == "min_version") {
      RESMETER_ASSIGN_OR_RETURN(tls.min_version, TlsVersion(e.second, source, full));
    } else if (key == "max_version") {
      RESMETER_ASSIGN_OR_RETURN(tls.max_version, TlsVersion(e.second, source, full));
    } else {
      return Status::InvalidArgument(Where(source, e.first) + "unknown key '" + full +
                                     "' (cert_file, key_file, client_ca_file, client_auth_type, min_version, "
                                     "max_version)");
    }
  }
  if (!have_cert || !have_key) {
    return Status::InvalidArgument(Where(source, node) +
                                   "tls_server_config needs both cert_file and key_file");
  }
  const bool verify = tls.client_auth == ClientAuthType::kVerifyClientCertIfGiven ||
                      tls.client_auth == ClientAuthType::kRequireAndVerifyClientCert;
  if (verify && tls.client_ca_file.empty()) {
    return Status::InvalidArgument(
        Where(source, node) + "client_auth_type verifies client certificates but client_ca_file is missing");
  }
  if (tls.max_version != 0 && tls.max_version < tls.min_version) {
    return Status::InvalidArgument(Where(source, node) + "max_version is lower than min_version");
  }
  RESMETER_RETURN_IF_ERROR(CheckTlsFiles(tls, Where(source, node)));
  return tls;
}

// sha256 over user, password and hash (NUL-separated): the auth cache key.
std::string CacheKey(const std::string& user, const std::string& password, const std::string& hash) {
  std::string in = user;
  in.push_back('\0');
  in += password;
  in.push_back('\0');
  in += hash;
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), md);
  OPENSSL_cleanse(in.data(), in.size());
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

}  // namespace

Status ConfigureTlsContext(void* ssl_ctx, const WebTlsConfig& tls) {
  SSL_CTX* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  if (SSL_CTX_set_min_proto_version(ctx, tls.min_version) != 1 ||
      (tls.max_version != 0 && SSL_CTX_set_max_proto_version(ctx, tls.max_version) != 1)) {
    return Status::InvalidArgument("TLS version range not supported by the TLS library");
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("cert_file " + tls.cert_file + ": not a PEM certificate chain");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("key_file " + tls.key_file + ": not a PEM private key");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("key_file " + tls.key_file + " does not match cert_file " + tls.cert_file);
  }
  int mode = SSL_VERIFY_NONE;
  switch (tls.client_auth) {
    case ClientAuthType::kNoClientCert:
      break;
    case ClientAuthType::kRequestClientCert:
    case ClientAuthType::kVerifyClientCertIfGiven:
      mode = SSL_VERIFY_PEER;
      break;
    case ClientAuthType::kRequireAnyClientCert:
    case ClientAuthType::kRequireAndVerifyClientCert:
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
      break;
  }
  const bool verify = tls.client_auth == ClientAuthType::kVerifyClientCertIfGiven ||
                      tls.client_auth == ClientAuthType::kRequireAndVerifyClientCert;
  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(), nullptr) != 1) {
      ERR_clear_error();
      return Status::InvalidArgument("client_ca_file " + tls.client_ca_file + ": not PEM CA certificates");
    }
    // No certificate_authorities list in the CertificateRequest: Prometheus's
    // Go TLS 1.3 client (Debian 12) rejects OpenSSL's ("tls: unexpected
    // message"), and it is only a hint for clients holding several certificates.
  }
  // Request*/RequireAny*: a certificate is asked for but not checked against a CA.
  SSL_verify_cb accept_any = [](int, X509_STORE_CTX*) { return 1; };
  SSL_CTX_set_verify(ctx, mode, verify ? nullptr : accept_any);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Resumed sessions must carry the verified client certificate: a session id
  // context is required for that (else OpenSSL fails resumption).
  static const unsigned char kSessionContext[] = "resmeter";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return Status::Ok();
}

bool WebConfig::RequiresAuth(const std::string& path) const {
  if (basic_auth_users.empty()) return false;
  if (!auth_paths) return path != "/metrics" && path != "/healthz" && path != "/";
  for (const auto& p : *auth_paths) {
    if (path == p || (!p.empty() && p.back() == '/' && StartsWith(path, p))) return true;
  }
  return false;
}

Result<WebConfig> ParseWebConfig(const std::string& yaml_text, const std::string& source) {
  WebConfig config;
  config.source = source;
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) +
                                   ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) return config;  // empty: plain HTTP, no users
  if (!root.IsMap()) return Status::InvalidArgument(Where(source, root) + "expected a mapping at the top");
  try {
    RESMETER_RETURN_IF_ERROR(CheckNoDuplicateKeys(root, source));
    for (const auto& e : root) {
      const std::string key = e.first.Scalar();
      if (key == "tls_server_config") {
        RESMETER_ASSIGN_OR_RETURN(config.tls, ParseTls(e.second, source));
      } else if (key == "basic_auth_users") {
        if (e.second.IsNull()) continue;
        if (!e.second.IsMap()) {
          return Status::InvalidArgument(Where(source, e.second) +
                                         "key 'basic_auth_users': expected a mapping");
        }
        for (const auto& u : e.second) {
          const std::string name = u.first.Scalar();
          RESMETER_ASSIGN_OR_RETURN(std::string hash, Scalar(u.second, source, "basic_auth_users." + name));
          if (name.empty() || name.find(':') != std::string::npos) {
            return Status::InvalidArgument(Where(source, u.first) + "user name '" + name +
                                           "' must be non-empty and without ':'");
          }
          if (!(StartsWith(hash, "$2a$") || StartsWith(hash, "$2b$") || StartsWith(hash, "$2y$")) ||
              hash.size() != 60) {
            return Status::InvalidArgument(Where(source, u.second) + "basic_auth_users." + name +
                                           ": expected a bcrypt hash ($2y$..., 60 characters), e.g. from "
                                           "'htpasswd -nbBC 10 \"\" PASSWORD'");
          }
          config.basic_auth_users[name] = hash;
        }
      } else if (key == "auth_paths") {
        if (!e.second.IsSequence()) {
          return Status::InvalidArgument(Where(source, e.second) +
                                         "key 'auth_paths': expected a list of paths");
        }
        config.auth_paths.emplace();
        for (const auto& p : e.second) {
          RESMETER_ASSIGN_OR_RETURN(std::string path, Scalar(p, source, "auth_paths"));
          if (path.empty() || path[0] != '/') {
            return Status::InvalidArgument(Where(source, p) + "auth_paths entry '" + path +
                                           "' must start with '/'");
          }
          config.auth_paths->push_back(path);
        }
      } else if (key == "http_server_config") {
        return Status::InvalidArgument(
            Where(source, e.first) +
            "http_server_config is not supported by resmeter (HTTP/2 and extra headers)");
      } else {
        return Status::InvalidArgument(Where(source, e.first) + "unknown key '" + key +
                                       "' (tls_server_config, basic_auth_users, auth_paths)");
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (config.auth_paths && !config.auth_paths->empty() && config.basic_auth_users.empty()) {
    return Status::InvalidArgument(source +
                                   ": auth_paths is set but basic_auth_users is empty (nobody could log in)");
  }
  return config;
}

Result<WebConfig> LoadWebConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("web config " + path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError("web config " + path + ": read error");
  return ParseWebConfig(ss.str(), path);
}

bool CheckBcryptPassword(const std::string& password, const std::string& hash) {
  if (hash.size() != 60 || password.find('\0') != std::string::npos) return false;
  crypt_data data;
  std::memset(&data, 0, sizeof data);
  const char* out = crypt_r(password.c_str(), hash.c_str(), &data);
  bool ok = out && out[0] != '*' && std::strlen(out) == hash.size() &&
            CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(&data, sizeof data);
  return ok;
}

Result<std::unique_ptr<WebConfigWatcher>> WebConfigWatcher::Open(const std::string& path) {
  std::unique_ptr<WebConfigWatcher> w(new WebConfigWatcher(path));
  w->fingerprint_ = w->Fingerprint();
  RESMETER_ASSIGN_OR_RETURN(WebConfig config, LoadWebConfig(path));
  w->current_ = std::make_shared<const WebConfig>(std::move(config));
  w->last_check_seconds_ = MonotonicSeconds();
  return w;
}

std::string WebConfigWatcher::Fingerprint() const {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) return "";
  return std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_ino);
}

std::shared_ptr<const WebConfig> WebConfigWatcher::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  const double now = MonotonicSeconds();
  if (now - last_check_seconds_ < 1.0) return current_;
  last_check_seconds_ = now;
  const std::string fp = Fingerprint();
  if (fp == fingerprint_) return current_;
  fingerprint_ = fp;
  auto next = LoadWebConfig(path_);
  if (!next.ok()) {
    // Keep serving with the previous config; the error goes to stderr once per change.
    if (next.status().message() != last_error_) {
      last_error_ = next.status().message();
      std::fprintf(stderr, "web config not reloaded, keeping the previous one: %s\n", last_error_.c_str());
    }
    return current_;
  }
  last_error_.clear();
  current_ = std::make_shared<const WebConfig>(std::move(*next));
  auth_cache_.clear();
  return current_;
}

bool WebConfigWatcher::Authenticate(const WebConfig& config, const std::string& user,
                                    const std::string& password) {
  auto it = config.basic_auth_users.find(user);
  // An unknown user costs a bcrypt too, so timing does not tell which names exist.
  static const std::string kDummyHash = "$2b$10$eggv1NzvG0URLqn1V818T.Ny00B0Pvhx10TmHY8dsdepExvvPNiEe";
  const std::string& hash = it == config.basic_auth_users.end() ? kDummyHash : it->second;
  const std::string key = CacheKey(user, password, hash);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (it != config.basic_auth_users.end() && auth_cache_.count(key)) return true;
  }
  const bool ok = CheckBcryptPassword(password, hash) && it != config.basic_auth_users.end();
  if (ok) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auth_cache_.size() >= kMaxAuthCacheEntries) auth_cache_.clear();
    auth_cache_[key] = user;
  }
  return ok;
}

}  // namespace resmeter
