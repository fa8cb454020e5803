#include "agent/config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "core/strings.h"

namespace resmeter {
namespace {

void Flatten(const YAML::Node& node, const std::string& prefix, std::set<std::string>* keys) {
  for (const auto& e : node) {
    const std::string path = prefix.empty() ? e.first.Scalar() : prefix + "." + e.first.Scalar();
    if (e.second.IsMap()) {  // meter names contain dots; joining with '.' still yields the dotted key
      Flatten(e.second, path, keys);
    } else {
      keys->insert(path);
    }
  }
}

TEST(config_test, default_file_documents_every_key_with_its_default) {
  auto loaded = LoadConfigFile(std::string(RESMETER_SOURCE_DIR) + "/configs/resmeter.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const Config defaults = DefaultConfig();
  EXPECT_EQ(loaded->global.json(), defaults.global.json());
  for (const auto& [name, opts] : defaults.meters) EXPECT_EQ(loaded->Meter(name).json(), opts.json()) << name;

  std::set<std::string> present;
  Flatten(YAML::LoadFile(std::string(RESMETER_SOURCE_DIR) + "/configs/resmeter.yaml"), "", &present);
  for (const auto& spec : GlobalSchema())
    EXPECT_TRUE(present.count(spec.key)) << "undocumented key " << spec.key;
  for (const auto& info : MeterRegistry()) {
    for (const auto& spec : MeterSchema(info)) {
      const std::string key = "meters." + info.name + "." + spec.key;
      EXPECT_TRUE(present.count(key)) << "undocumented key " << key;
    }
  }
}

TEST(config_test, unknown_key_names_file_line_and_key) {
  auto r = ParseConfig("report:\n  validity_seconds: 100\n  colour: blue\n", "test.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "test.yaml:3: unknown key 'report.colour'");
}

TEST(config_test, wrong_type_and_out_of_range_are_rejected) {
  auto wrong = ParseConfig("report:\n  validity_seconds: soon\n", "c.yaml");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "c.yaml:2: key 'report.validity_seconds': expected an integer, got 'soon'");
  auto range = ParseConfig("report:\n  validity_seconds: 5\n", "c.yaml");
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.status().message(),
            "c.yaml:2: key 'report.validity_seconds': 5 is out of range [60, 2592000]");
  auto choice = ParseConfig("report: {algorithm: RS256}\n", "c.yaml");
  ASSERT_FALSE(choice.ok());
  EXPECT_NE(choice.status().message().find("expected one of EdDSA, ES384"), std::string::npos);
  auto list = ParseConfig("verify: {allowed_algorithms: EdDSA}\n", "c.yaml");
  EXPECT_FALSE(list.ok());
}

TEST(config_test, malformed_yaml_is_one_line_with_position) {
  auto r = ParseConfig("report: [unclosed\n", "bad.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("bad.yaml:", 0), 0u);
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  auto top = ParseConfig("- a\n- b\n", "list.yaml");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().message(), "list.yaml:1: expected a mapping of keys at the top");
}

TEST(config_test, set_overrides_file_and_is_validated) {
  auto r = ParseConfig("report: {validity_seconds: 100}\n", "c.yaml");
  ASSERT_TRUE(r.ok());
  Config c = *r;
  ASSERT_TRUE(ApplyConfigOverride(c, "report.validity_seconds=200").ok());
  EXPECT_EQ(c.global.Int("report.validity_seconds"), 200);
  Status bad = ApplyConfigOverride(c, "report.validity_seconds=abc");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("expected an integer"), std::string::npos);
  EXPECT_FALSE(ApplyConfigOverride(c, "novalue").ok());
  EXPECT_FALSE(ApplyConfigOverride(c, "meters.no.such.meter=1").ok());
  ASSERT_TRUE(ApplyConfigOverride(c, "verify.allowed_algorithms=[EdDSA]").ok());
  EXPECT_EQ(c.global.Strings("verify.allowed_algorithms"), std::vector<std::string>{"EdDSA"});
}

TEST(config_test, empty_file_means_defaults) {
  auto r = ParseConfig("", "empty.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->global.json(), DefaultConfig().global.json());
}

// Found by tests/fuzz/config_fuzz.cc: a string value with invalid UTF-8 was
// accepted, and dumping the config (reports, JSON logs) then threw.
TEST(config_test, string_values_must_be_utf8) {
  auto c = ParseConfig("state_dir: \"/var/\xc4/x\"\n", "t.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("UTF-8"), std::string::npos) << c.status().message();
  EXPECT_TRUE(ParseConfig("state_dir: /var/lib/r\xc3\xa9sm\n", "t.yaml").ok());
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));  // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));      // truncated
}

}  // namespace
}  // namespace resmeter

namespace resmeter {
namespace {

// resmeter-verify passes no meters: it reads the agent's config file for the
// keys it shares and ignores `meters:`, but refuses to set a meter key.
TEST(config_test, a_program_without_meters_reads_the_agent_config_and_ignores_meters) {
  const ConfigurableMeters none;
  auto loaded = LoadConfigFile(std::string(RESMETER_SOURCE_DIR) + "/configs/resmeter.yaml", none);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_TRUE(loaded->meters.empty());
  EXPECT_EQ(loaded->global.json(), DefaultConfig().global.json());
  auto odd = ParseConfig("meters: {no.such.meter: {x: 1}}\nreport: {validity_seconds: 100}\n", "v.yaml", none);
  ASSERT_TRUE(odd.ok()) << odd.status().message();
  EXPECT_EQ(odd->global.Int("report.validity_seconds"), 100);
  EXPECT_FALSE(ParseConfig("report: {colour: blue}\n", "v.yaml", none).ok());  // global keys still checked
  Config c = DefaultConfig(none);
  Status s = ApplyConfigOverride(c, "meters.cpu.time.enabled=false", none);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("runs no meters"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace resmeter
