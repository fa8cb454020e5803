#include "agent/web_config.h"

#include <crypt.h>
#include <gtest/gtest.h>

namespace resmeter {
namespace {

// A real bcrypt hash of "s3cret" (cost 4, made with libxcrypt).
std::string Hash(const std::string& password) {
  crypt_data data{};
  const char* setting = crypt_gensalt_rn("$2b$", 4, nullptr, 0, data.setting, sizeof data.setting);
  const char* out = crypt_rn(password.c_str(), setting, &data, sizeof data);
  return out ? out : "";
}

TEST(web_config_test, users_and_auth_paths_decide_which_paths_need_a_user) {
  const std::string h = Hash("s3cret");
  ASSERT_EQ(h.size(), 60u);
  auto c = ParseWebConfig("basic_auth_users:\n  alice: '" + h + "'\n", "web.yml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->tls.has_value());
  // Default: everything but /metrics, /healthz and /.
  EXPECT_TRUE(c->RequiresAuth("/v1/attest"));
  EXPECT_TRUE(c->RequiresAuth("/v1/ledger"));
  EXPECT_FALSE(c->RequiresAuth("/metrics"));
  EXPECT_FALSE(c->RequiresAuth("/healthz"));
  EXPECT_FALSE(c->RequiresAuth("/"));
  auto p =
      ParseWebConfig("basic_auth_users:\n  alice: '" + h + "'\nauth_paths: [/metrics, /v1/]\n", "web.yml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->RequiresAuth("/metrics"));
  EXPECT_TRUE(p->RequiresAuth("/v1/identity"));
  EXPECT_FALSE(p->RequiresAuth("/metricsx"));
  EXPECT_FALSE(p->RequiresAuth("/healthz"));
  // No users: nothing needs auth.
  EXPECT_FALSE(ParseWebConfig("", "web.yml")->RequiresAuth("/v1/attest"));
}

TEST(web_config_test, bcrypt_check_accepts_only_the_password) {
  const std::string h = Hash("s3cret");
  EXPECT_TRUE(CheckBcryptPassword("s3cret", h));
  EXPECT_FALSE(CheckBcryptPassword("s3cret ", h));
  EXPECT_FALSE(CheckBcryptPassword("", h));
  EXPECT_FALSE(CheckBcryptPassword("s3cret", "$2b$04$notahash"));
  std::string y = h;
  y[2] = 'y';  // $2y$ (htpasswd -B) is the same algorithm
  EXPECT_TRUE(CheckBcryptPassword("s3cret", y));
}

TEST(web_config_test, errors_name_file_line_and_key) {
  auto dup = ParseWebConfig("basic_auth_users:\n  a: x\n  a: y\n", "w.yml");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "w.yml:3: duplicate key 'a' (first at line 2)");
  auto unknown = ParseWebConfig("tls_config: {}\n", "w.yml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("w.yml:1: unknown key 'tls_config'"), std::string::npos);
  auto plain = ParseWebConfig("basic_auth_users:\n  a: plaintext\n", "w.yml");
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.status().message().find("w.yml:2: basic_auth_users.a: expected a bcrypt hash"),
            std::string::npos)
      << plain.status().message();
  auto missing =
      ParseWebConfig("tls_server_config:\n  cert_file: /nonexistent/c.pem\n  key_file: k\n", "w.yml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("w.yml:2: key 'tls_server_config.cert_file': cannot read"),
            std::string::npos)
      << missing.status().message();
  auto version = ParseWebConfig("tls_server_config:\n  min_version: TLS10\n", "w.yml");
  ASSERT_FALSE(version.ok());
  EXPECT_NE(version.status().message().find("'TLS10' is not TLS12 or TLS13"), std::string::npos);
  auto nobody = ParseWebConfig("auth_paths: [/v1/]\n", "w.yml");
  ASSERT_FALSE(nobody.ok());
  auto relative = ParseWebConfig("auth_paths: [v1]\nbasic_auth_users:\n  a: '" + Hash("x") + "'\n", "w.yml");
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.status().message().find("must start with '/'"), std::string::npos);
}

}  // namespace
}  // namespace resmeter
