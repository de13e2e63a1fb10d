#include "data/text/byte_level.h"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/text/byte_level_pre_tokenizer.h"
#include "data/text/utf8.h"

namespace medtrain::data::text {
namespace {

TEST(ByteLevel, AlphabetIsGpt2s) {
  EXPECT_EQ(byte_to_char(' '), U'\u0120');   // 'Ġ'
  EXPECT_EQ(byte_to_char('\n'), U'\u010A');  // 'Ċ'
  EXPECT_EQ(byte_to_char(0), U'\u0100');
  EXPECT_EQ(byte_to_char(0x7F), U'\u0121');  // DEL follows the 33 controls and space
  EXPECT_EQ(byte_to_char(0xAD), U'\u0143');  // soft hyphen, the last one shifted
  EXPECT_EQ(byte_to_char('A'), U'A');
  EXPECT_EQ(byte_to_char(0xE9), U'\u00E9');
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = byte_to_char(static_cast<uint8_t>(b));
    seen.insert(c);
    EXPECT_EQ(char_to_byte(c), b);
  }
  EXPECT_EQ(seen.size(), 256u);
  EXPECT_EQ(char_to_byte(U'\u0144'), -1);
  EXPECT_EQ(char_to_byte(U' '), -1);  // space is written as 'Ġ'
  EXPECT_EQ(char_to_byte(U'日'), -1);
}

TEST(ByteLevel, DecodeJoinsBytesAndReplacesCutCharacters) {
  EXPECT_EQ(byte_level_decode({"Hello", "\u0120world", "\u010A"}), "Hello world\n");
  // 😀 is F0 9F 98 80; its first three bytes alone are one ill-formed sequence.
  EXPECT_EQ(byte_level_decode({"\u00F0\u0141\u013A"}), "\uFFFD");
  EXPECT_EQ(byte_level_decode({"\u00F0\u0141\u013A", "\u0122"}), "\U0001F600");
  // A token with a code point outside the alphabet contributes its own UTF-8.
  EXPECT_EQ(byte_level_decode({"<|en|>", "日本", "\u0120x"}), "<|en|>日本 x");
  EXPECT_EQ(byte_level_decode({}), "");
}

NormalizedText text_of(const std::u32string& s) {
  NormalizedText t;
  for (uint32_t i = 0; i < s.size(); ++i) t.push(s[i], i);
  return t;
}

TEST(ByteLevel, PreTokenizerRewritesBytesAndKeepsSources) {
  NormalizedText t = text_of(U"a é");
  std::vector<Span> words;
  ByteLevelPreTokenizer().pre_tokenize(t, 0, words);
  ASSERT_EQ(words.size(), 2u);
  EXPECT_EQ(t.chars, std::u32string(U"a\u0120\u00C3\u00A9"));  // ' ' -> Ġ, é -> C3 A9
  EXPECT_EQ(t.source, (std::vector<uint32_t>{0, 1, 2, 2}));   // both bytes of é come from it
  EXPECT_EQ(words[1].start, 1u);
  EXPECT_EQ(words[1].end, 4u);
}

TEST(ByteLevel, PrefixSpaceOnlyWhenMissingAndOnlyTheTailIsRewritten) {
  ByteLevelOptions o;
  o.add_prefix_space = true;
  NormalizedText t = text_of(U"xyhi");
  std::vector<Span> words;
  ByteLevelPreTokenizer(o).pre_tokenize(t, 2, words);  // [0, 2) belongs to an earlier segment
  EXPECT_EQ(t.chars, std::u32string(U"xy\u0120hi"));
  EXPECT_EQ(t.source, (std::vector<uint32_t>{0, 1, 2, 2, 3}));  // the prefix maps to the first character
  ASSERT_EQ(words.size(), 1u);
  EXPECT_EQ(words[0].start, 2u);

  NormalizedText spaced = text_of(U" hi");
  words.clear();
  ByteLevelPreTokenizer(o).pre_tokenize(spaced, 0, words);
  EXPECT_EQ(spaced.chars, std::u32string(U"\u0120hi"));

  o.use_regex = false;
  NormalizedText whole = text_of(U"a b, c");
  words.clear();
  ByteLevelPreTokenizer(o).pre_tokenize(whole, 0, words);
  EXPECT_EQ(words.size(), 1u);
}

}  // namespace
}  // namespace medtrain::data::text
