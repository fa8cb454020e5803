#include "core/status.h"

#include <gtest/gtest.h>

#include "core/result.h"
#include "core/strings.h"

namespace resmeter {
namespace {

TEST(status_test, ok_and_error_carry_code_and_message) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Status::NotFound("/proc/stat: no such file").WithContext("cpu.time");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_EQ(s.message(), "cpu.time: /proc/stat: no such file");
}

TEST(status_test, result_holds_value_or_status) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad = Status::Corruption("x");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "x");
}

TEST(strings_test, hex_round_trip_and_rejects_bad_digits) {
  EXPECT_EQ(HexEncode(std::string("\x01\xab", 2)), "01ab");
  EXPECT_EQ(*HexDecode("01AB"), std::string("\x01\xab", 2));
  EXPECT_FALSE(HexDecode("0g").has_value());
  EXPECT_FALSE(HexDecode("abc").has_value());
}

TEST(strings_test, parse_numbers_whole_string_only) {
  EXPECT_EQ(*ParseInt64("-42"), -42);
  EXPECT_FALSE(ParseInt64("42x").has_value());
  EXPECT_FALSE(ParseUint64("").has_value());
  EXPECT_DOUBLE_EQ(*ParseDouble("1.5"), 1.5);
  EXPECT_FALSE(ParseDouble("nan").has_value());
  auto f = SplitWhitespace("  cpu0 1 2\t3 \n");
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[3], "3");
}

}  // namespace
}  // namespace resmeter
