#include "data/text/gpt2_split.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace medtrain::data::text {
namespace {

std::vector<std::u32string> split(const std::u32string& s) {
  std::vector<Span> spans;
  gpt2_split(s.data(), static_cast<uint32_t>(s.size()), spans);
  std::vector<std::u32string> out;
  uint32_t expected_start = 0;
  for (const Span& w : spans) {
    EXPECT_EQ(w.start, expected_start);  // the words tile the text
    expected_start = w.end;
    out.push_back(s.substr(w.start, w.end - w.start));
  }
  EXPECT_EQ(expected_start, s.size());
  return out;
}

using W = std::vector<std::u32string>;

TEST(Gpt2Split, LettersNumbersAndOtherRunsTakeOneLeadingSpace) {
  EXPECT_EQ(split(U"Hello world"), (W{U"Hello", U" world"}));
  EXPECT_EQ(split(U"42km é"), (W{U"42", U"km", U" é"}));
  EXPECT_EQ(split(U" 1 .5"), (W{U" 1", U" .", U"5"}));
  EXPECT_EQ(split(U"a+=b"), (W{U"a", U"+=", U"b"}));
  EXPECT_EQ(split(U"日本語 テスト"), (W{U"日本語", U" テスト"}));
  EXPECT_EQ(split(U"e\u0301"), (W{U"e", U"\u0301"}));  // a combining mark is not a letter
  EXPECT_EQ(split(U"x😀😀y"), (W{U"x", U"😀😀", U"y"}));
  EXPECT_EQ(split(U"²½"), (W{U"²½"}));  // No: numbers
}

TEST(Gpt2Split, ContractionsAreAsciiAndCaseSensitive) {
  EXPECT_EQ(split(U"don't"), (W{U"don", U"'t"}));
  EXPECT_EQ(split(U"DON'T"), (W{U"DON", U"'", U"T"}));
  EXPECT_EQ(split(U"we're you'll"), (W{U"we", U"'re", U" you", U"'ll"}));
  EXPECT_EQ(split(U"'sun"), (W{U"'s", U"un"}));
  EXPECT_EQ(split(U"x.'s"), (W{U"x", U".'", U"s"}));
  EXPECT_EQ(split(U"it’s"), (W{U"it", U"’", U"s"}));  // U+2019 is not an apostrophe here
  EXPECT_EQ(split(U"'"), (W{U"'"}));
}

TEST(Gpt2Split, WhitespaceRunsLeaveTheirLastSpaceToTheNextWord) {
  EXPECT_EQ(split(U"a  b"), (W{U"a", U" ", U" b"}));
  EXPECT_EQ(split(U"a\n\n b"), (W{U"a", U"\n\n", U" b"}));
  EXPECT_EQ(split(U"a\tb"), (W{U"a", U"\t", U"b"}));
  EXPECT_EQ(split(U"a\t\tb"), (W{U"a", U"\t", U"\t", U"b"}));
  EXPECT_EQ(split(U"x   "), (W{U"x", U"   "}));
  EXPECT_EQ(split(U"   "), (W{U"   "}));
  EXPECT_EQ(split(U"\u3000x"), (W{U"\u3000", U"x"}));  // only U+0020 joins the next word
  EXPECT_EQ(split(U""), W{});
}

}  // namespace
}  // namespace medtrain::data::text
