#include "data/text/utf8.h"

#include <gtest/gtest.h>

namespace medtrain::data::text {
namespace {

TEST(Utf8, DecodesValidTextWithByteOffsets) {
  const DecodedText d = decode_utf8_lossy("a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80");  // a é 日 😀
  EXPECT_EQ(d.chars, (std::u32string{U'a', 0xE9, 0x65E5, 0x1F600}));
  EXPECT_EQ(d.byte_start, (std::vector<uint32_t>{0, 1, 3, 6, 10}));
  EXPECT_EQ(d.replacements, 0u);
}

// Each case: bytes -> code points, as Python's bytes.decode("utf-8", "replace") gives.
TEST(Utf8, ReplacesMaximalSubpartsLikePython) {
  struct Case {
    std::string bytes;
    std::u32string chars;
    size_t replacements;
  };
  const Case cases[] = {
      {"\xFF", U"\uFFFD", 1},                          // never a lead byte
      {"a\x80" "b", U"a\uFFFD" "b", 1},                // lone continuation
      {"\xC3", U"\uFFFD", 1},                          // truncated at the end
      {"\xE6\x97" "x", U"\uFFFDx", 1},                 // truncated 3-byte: one U+FFFD for both bytes
      {"\xC0\xAF", U"\uFFFD\uFFFD", 2},                // overlong lead C0: two
      {"\xE0\x80\x80", U"\uFFFD\uFFFD\uFFFD", 3},      // overlong 3-byte
      {"\xED\xA0\x80", U"\uFFFD\uFFFD\uFFFD", 3},      // surrogate D800
      {"\xF4\x90\x80\x80", U"\uFFFD\uFFFD\uFFFD\uFFFD", 4},  // above U+10FFFF
      {"\xF0\x9F\x98" "a", U"\uFFFD" "a", 1},          // truncated 4-byte
  };
  for (const Case& c : cases) {
    const DecodedText d = decode_utf8_lossy(c.bytes);
    EXPECT_EQ(d.chars, c.chars) << "bytes of length " << c.bytes.size();
    EXPECT_EQ(d.replacements, c.replacements);
    EXPECT_EQ(d.byte_start.back(), c.bytes.size());
  }
}

TEST(Utf8, EncodesEveryLength) {
  std::string s;
  for (char32_t c : {char32_t{'a'}, char32_t{0xE9}, char32_t{0x65E5}, char32_t{0x1F600}}) append_utf8(s, c);
  EXPECT_EQ(s, "a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace medtrain::data::text
