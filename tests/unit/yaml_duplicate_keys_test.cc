#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "agent/config.h"
#include "core/yaml_checks.h"

namespace resmeter {
namespace {

TEST(yaml_duplicate_keys_test, config_with_a_key_twice_names_file_line_and_key) {
  auto c =
      ParseConfig("agent:\n  listen: 127.0.0.1:1\n  http_threads: 2\n  listen: 0.0.0.0:9464\n", "x.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(c.status().message(), "x.yaml:4: duplicate key 'listen' (first at line 2)");
  // At the top level too, and a section given twice.
  auto top = ParseConfig("api:\n  attest_burst: 2\nlog:\n  level: info\napi:\n  attest_burst: 9\n", "y.yaml");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().message(), "y.yaml:5: duplicate key 'api' (first at line 1)");
}

// "a: &x [*x, *x]" is a sequence that contains itself: the walk visits each
// node of the text once and ends (it looped forever before; the config fuzz
// seed anchors.yaml holds this input). A duplicate behind an alias is still found.
TEST(yaml_duplicate_keys_test, self_referencing_alias_ends_and_aliased_duplicates_are_found) {
  EXPECT_TRUE(CheckNoDuplicateKeys(YAML::Load("a: &x [*x, *x]\n"), "t.yaml").ok());
  EXPECT_TRUE(CheckNoDuplicateKeys(YAML::Load("a: &m {k: 1}\nb: *m\nc: [*m, *m]\n"), "t.yaml").ok());
  const Status dup = CheckNoDuplicateKeys(YAML::Load("a: &m {k: 1, k: 2}\nb: *m\n"), "t.yaml");
  EXPECT_FALSE(dup.ok());
  EXPECT_NE(dup.message().find("duplicate key 'k'"), std::string::npos) << dup.message();
}

TEST(yaml_duplicate_keys_test, nested_in_lists_and_distinct_keys_pass) {
  YAML::Node ok = YAML::Load("a: [{x: 1, y: 2}, {x: 3}]\nb: {x: 1}\n");
  EXPECT_TRUE(CheckNoDuplicateKeys(ok, "ok.yaml").ok());
  YAML::Node bad = YAML::Load("a:\n  - x: 1\n    x: 2\n");
  Status st = CheckNoDuplicateKeys(bad, "bad.yaml");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "bad.yaml:3: duplicate key 'x' (first at line 2)");
  EXPECT_TRUE(ParseConfig("agent:\n  listen: 127.0.0.1:1\n", "z.yaml").ok());
}

}  // namespace
}  // namespace resmeter
