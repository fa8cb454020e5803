#include <gtest/gtest.h>

#include "ledger/flat_json.h"

namespace resmeter {
namespace {

struct Parsed {
  Status status;
  FlatJsonMember members[8];
  size_t count = 0;
};

std::unique_ptr<Parsed> Parse(std::string_view text) {
  auto p = std::make_unique<Parsed>();
  p->status = ParseFlatJsonObject(text, p->members, 8, &p->count);
  return p;
}

TEST(flat_json_test, parses_strings_numbers_and_booleans) {
  auto p = Parse(R"( {"a":"x\"y\u00e9\ud83d\ude00","b":-1.5e3,"c":18446744073709551615,"d":true,"e":false,"f":0} )");
  ASSERT_TRUE(p->status.ok()) << p->status.message();
  ASSERT_EQ(p->count, 6u);
  EXPECT_EQ(p->members[0].key, "a");
  EXPECT_EQ(p->members[0].value.text(), "x\"y\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_DOUBLE_EQ(p->members[1].value.number, -1500);
  EXPECT_FALSE(p->members[1].value.is_uint);
  EXPECT_TRUE(p->members[2].value.is_uint);
  EXPECT_EQ(p->members[2].value.uint_value, 18446744073709551615ull);
  EXPECT_TRUE(p->members[3].value.boolean);
  EXPECT_FALSE(p->members[4].value.boolean);
  EXPECT_TRUE(p->members[5].value.is_uint);
  EXPECT_TRUE(Parse("{}")->status.ok());
}

TEST(flat_json_test, rejects_what_is_not_a_flat_json_object) {
  for (const char* bad : {"", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x", "{\"a\":{}}", "{\"a\":[1]}",
                          "{\"a\":null}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":1e}",
                          "{\"a\":nan}", "{\"a\":1e999}", "{\"a\":tru}", "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}",
                          "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}",
                          "{\"a\":\"abc}", "{\"a\":1,\"a\":2}", "{\"\\u0061\":1}", "{a:1}"}) {
    EXPECT_FALSE(Parse(bad)->status.ok()) << bad;
  }
  // More members than room.
  EXPECT_FALSE(Parse(R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9})")->status.ok());
}

}  // namespace
}  // namespace resmeter
