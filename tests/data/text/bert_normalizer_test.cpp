#include "data/text/bert_normalizer.h"

#include <gtest/gtest.h>

#include "data/text/utf8.h"

namespace medtrain::data::text {
namespace {

NormalizedText run(const std::string& utf8, BertNormalizerOptions o = {}) {
  const DecodedText d = decode_utf8_lossy(utf8);
  NormalizedText out;
  BertNormalizer(o).normalize(d.chars.data(), 0, static_cast<uint32_t>(d.chars.size()), out);
  return out;
}

std::string utf8_of(const NormalizedText& t) {
  std::string s;
  for (char32_t c : t.chars) append_utf8(s, c);
  return s;
}

TEST(BertNormalizer, LowercasesAndStripsAccentsByDefault) {
  const NormalizedText t = run("Crème Brûlée NAÏVE");
  EXPECT_EQ(utf8_of(t), "creme brulee naive");
  EXPECT_EQ(t.source, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}));
}

TEST(BertNormalizer, DecomposedAccentsKeepTheBaseLettersSource) {
  // "e" + COMBINING ACUTE + "x": the mark is dropped, e and x keep their own sources.
  const NormalizedText t = run("e\xCC\x81x");
  EXPECT_EQ(utf8_of(t), "ex");
  EXPECT_EQ(t.source, (std::vector<uint32_t>{0, 2}));
}

TEST(BertNormalizer, StripAccentsFollowsLowercaseUnlessSet) {
  BertNormalizerOptions cased;
  cased.lowercase = false;
  EXPECT_EQ(utf8_of(run("Élan", cased)), "Élan");
  cased.strip_accents = true;
  EXPECT_EQ(utf8_of(run("Élan", cased)), "Elan");
  BertNormalizerOptions lower_keep;
  lower_keep.strip_accents = false;
  EXPECT_EQ(utf8_of(run("Élan", lower_keep)), "élan");
}

TEST(BertNormalizer, DottedCapitalILowercasesToTwoCodePoints) {
  BertNormalizerOptions o;
  o.strip_accents = false;
  const NormalizedText t = run("\xC4\xB0x", o);  // İx
  EXPECT_EQ(t.chars, (std::u32string{U'i', 0x0307, U'x'}));
  EXPECT_EQ(t.source, (std::vector<uint32_t>{0, 0, 1}));
}

TEST(BertNormalizer, SpacesAroundCjkIdeographsOnly) {
  const NormalizedText t = run("ab日本カ한");
  // 日 and 本 are CJK ideographs; katakana カ is not; Hangul 한 is decomposed (NFD) into jamo.
  EXPECT_EQ(t.chars, (std::u32string{U'a', U'b', U' ', 0x65E5, U' ', U' ', 0x672C, U' ', 0x30AB,
                                     0x1112, 0x1161, 0x11AB}));
  EXPECT_EQ(t.source, (std::vector<uint32_t>{0, 1, 2, 2, 2, 3, 3, 3, 4, 5, 5, 5}));
}

TEST(BertNormalizer, CleanTextDropsControlsAndMapsWhitespace) {
  // NUL, BEL, U+FFFD, ZERO WIDTH SPACE (Cf) and NEL (Cc) vanish; tab, NBSP, U+3000 become ' '.
  using namespace std::string_literals;
  const NormalizedText t = run("a\0b\x07" "c\xEF\xBF\xBD" "d\xE2\x80\x8B" "e\xC2\x85" "f\tg\xC2\xA0h\xE3\x80\x80i"s);
  EXPECT_EQ(utf8_of(t), "abcdef g h i");
  BertNormalizerOptions raw;
  raw.clean_text = false;
  EXPECT_EQ(run("a\x07" "b", raw).chars, (std::u32string{U'a', 0x07, U'b'}));
}

}  // namespace
}  // namespace medtrain::data::text
