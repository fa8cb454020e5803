#include "core/untrusted_json.h"

#include <gtest/gtest.h>

#include "core/base64url.h"
#include "jose/jws.h"

namespace resmeter {
namespace {

std::string Nested(size_t depth, char open, char close, const std::string& inner = "") {
  std::string s(depth, open);
  s += inner;
  s.append(depth, close);
  return s;
}

// Objects nested `depth` deep: {"a":{"a":...{}...}}.
std::string NestedObjects(size_t depth) {
  std::string s;
  for (size_t i = 0; i + 1 < depth; ++i) s += "{\"a\":";
  s += "{}";
  s.append(depth - 1, '}');
  return s;
}

TEST(untrusted_json_test, million_deep_array_and_object_are_rejected_without_parsing) {
  auto a = ParseUntrustedJson(Nested(1'000'000, '[', ']'));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(a.status().message(), "JSON: JSON nesting deeper than 64 levels at byte 65");
  auto o = ParseUntrustedJson(NestedObjects(1'000'000));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("nesting deeper than 64"), std::string::npos) << o.status().message();
}

TEST(untrusted_json_test, exact_depth_limit_is_accepted_one_more_is_not) {
  JsonLimits limits;
  limits.max_depth = 10;
  auto ok = ParseUntrustedJson(Nested(10, '[', ']', "1"), limits);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)[0][0][0][0][0][0][0][0][0][0], 1);
  EXPECT_TRUE(ParseUntrustedJson(NestedObjects(10), limits).ok());
  auto deep = ParseUntrustedJson(Nested(11, '[', ']'), limits);
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("deeper than 10 levels at byte 11"), std::string::npos)
      << deep.status().message();
  EXPECT_FALSE(ParseUntrustedJson(NestedObjects(11), limits).ok());
  // Default limit: 64 accepted, 65 rejected.
  EXPECT_TRUE(ParseUntrustedJson(Nested(64, '[', ']')).ok());
  EXPECT_FALSE(ParseUntrustedJson(Nested(65, '[', ']')).ok());
}

TEST(untrusted_json_test, brackets_inside_strings_are_not_nesting) {
  JsonLimits limits;
  limits.max_depth = 2;
  const std::string brackets(100'000, '[');
  auto j = ParseUntrustedJson("{\"k\": \"" + brackets + "\\\"" + std::string(100, '{') + "\"}", limits);
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ((*j)["k"].get<std::string>().size(), 100'000u + 1 + 100);
  // An escaped backslash ends the escape: the quote after it closes the string.
  auto k = ParseUntrustedJson(R"({"k": "\\", "l": [[1]]})", limits);
  EXPECT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("deeper than 2"), std::string::npos);
}

TEST(untrusted_json_test, size_limit_and_invalid_json_have_their_own_messages) {
  JsonLimits limits;
  limits.max_bytes = 8;
  limits.what = "peer frame";
  auto big = ParseUntrustedJson("[1,2,3,4,5]", limits);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().message(), "peer frame: 11 bytes, more than the 8 allowed");
  EXPECT_TRUE(ParseUntrustedJson("[1,2,3]", limits).ok());  // 7 bytes
  limits.max_bytes = 7;
  EXPECT_TRUE(ParseUntrustedJson("[1,2,3]", limits).ok());  // exactly at the limit
  auto bad = ParseUntrustedJson("{\"a\": ]");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kCorruption);
  // Stray closers never make the depth wrap around.
  EXPECT_FALSE(ParseUntrustedJson("]]]]" + Nested(65, '[', ']')).ok());
}

TEST(untrusted_json_test, jws_with_million_deep_header_is_corruption_not_a_crash) {
  const std::string header = "{\"alg\":\"EdDSA\",\"x\":" + Nested(1'000'000, '[', ']') + "}";
  const std::string token =
      Base64UrlEncode(header) + "." + Base64UrlEncode("{}") + "." + Base64UrlEncode("sig");
  auto parsed = ParseJws(token);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("JWS header"), std::string::npos) << parsed.status().message();
  auto payload = ParseJwsPayloadJson(NestedObjects(200'000));
  ASSERT_FALSE(payload.ok());
  EXPECT_NE(payload.status().message().find("JWS payload: JSON nesting deeper than 64"), std::string::npos);
}

}  // namespace
}  // namespace resmeter
