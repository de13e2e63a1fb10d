// normalize_transcript rule by rule (Note [Transcript normalisation]) and
// TranscriptErrors on cases small enough to count by hand. The parity with jiwer on
// random pairs is in word_error_rate_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "trainer/metrics/word_error_rate.h"

namespace medtrain::metrics {
namespace {

using Cases = std::vector<std::pair<std::string, std::string>>;

void expect_normalized(const Cases& cases) {
  for (const auto& [in, want] : cases) EXPECT_EQ(normalize_transcript(in), want) << "input: \"" << in << "\"";
}

TEST(NormalizeTranscript, LowerCaseIsUnicodeAware) {
  expect_normalized({{"Pleural EFFUSION", "pleural effusion"},
                     {"ÉPANCHEMENT Ödem", "épanchement ödem"},
                     {"ΑΒΓ", "αβγ"},
                     {"\xC4\xB0", "i\xCC\x87"}});  // İ: full mapping, i + combining dot above
}

TEST(NormalizeTranscript, Integers) {
  expect_normalized({{"0", "zero"},
                     {"7", "seven"},
                     {"12", "twelve"},
                     {"19", "nineteen"},
                     {"20", "twenty"},
                     {"42", "forty two"},
                     {"100", "one hundred"},
                     {"105", "one hundred five"},
                     {"999", "nine hundred ninety nine"},
                     {"1000", "one thousand"},
                     {"2023", "two thousand twenty three"},
                     {"1,200", "one thousand two hundred"},
                     {"12,000,000", "twelve million"},
                     {"1,000,001", "one million one"},
                     {"999999999999", "nine hundred ninety nine billion nine hundred ninety nine million "
                                      "nine hundred ninety nine thousand nine hundred ninety nine"},
                     {"1234567890123", "one two three four five six seven eight nine zero one two three"},
                     {"007", "zero zero seven"},
                     {"00", "zero zero"}});
}

TEST(NormalizeTranscript, Decimals) {
  expect_normalized({{"3.5", "three point five"},
                     {"0.5", "zero point five"},
                     {"0.25", "zero point two five"},
                     {"1,200.75", "one thousand two hundred point seven five"},
                     {"measures 3.", "measures three"},
                     {".5", "five"},
                     {"1.2.3", "one point two three"}});
}

TEST(NormalizeTranscript, CommasThatAreNotGrouping) {
  expect_normalized({{"1,2", "one two"},
                     {"1,2345", "one two thousand three hundred forty five"},
                     {"1234,567", "one thousand two hundred thirty four five hundred sixty seven"},
                     {"levels 3, 4", "levels three four"}});
}

TEST(NormalizeTranscript, DigitsSplitFromLetters) {
  expect_normalized({{"T12", "t twelve"}, {"L4-L5", "l four l five"}, {"3D", "three d"}, {"b12x", "b twelve x"}});
}

TEST(NormalizeTranscript, Ordinals) {
  expect_normalized({{"1st", "first"},
                     {"2nd rib", "second rib"},
                     {"3rd", "third"},
                     {"4th ventricle", "fourth ventricle"},
                     {"12th", "twelfth"},
                     {"20th", "twentieth"},
                     {"21st", "twenty first"},
                     {"100th", "one hundredth"},
                     {"4TH", "fourth"},
                     {"4thx", "four thx"},     // not a whole word
                     {"4.5th", "four point five th"}});  // no decimal ordinals
}

TEST(NormalizeTranscript, UnitsOnlyAfterANumber) {
  expect_normalized({{"5 mm", "five millimeters"},
                     {"5mm", "five millimeters"},
                     {"5-mm nodule", "five millimeters nodule"},
                     {"5  MM.", "five millimeters"},
                     {"1.5cm", "one point five centimeters"},
                     {"10 ml", "ten milliliters"},
                     {"10 mL", "ten milliliters"},
                     {"2 mg", "two milligrams"},
                     {"70 kg", "seventy kilograms"},
                     {"mm", "mm"},
                     {"the mm and cm", "the mm and cm"},
                     {"5 mmhg", "five mmhg"},
                     {"5cm2", "five cm two"},
                     {"5 x 3 mm", "five x three millimeters"},
                     {"5 -- mm", "five mm"}});  // at most one hyphen
}

TEST(NormalizeTranscript, SpokenSymbols) {
  expect_normalized({{"50%", "fifty percent"},
                     {"50 %", "fifty percent"},
                     {"%", "percent"},
                     {"45°", "forty five degrees"}});
}

TEST(NormalizeTranscript, HyphensAndSlashesBecomeSpaces) {
  expect_normalized({{"x-ray", "x ray"},
                     {"and/or", "and or"},
                     {"a\\b", "a b"},
                     {"pre\xE2\x80\x93op", "pre op"},     // en dash
                     {"a\xE2\x80\x94" "b", "a b"},        // em dash
                     {"well-defined", "well defined"}});
}

TEST(NormalizeTranscript, Apostrophes) {
  expect_normalized({{"patient's", "patient's"},
                     {"Patient\xE2\x80\x99s", "patient's"},  // typographic apostrophe
                     {"patients'", "patients"},
                     {"'quoted'", "quoted"},
                     {"don't", "don't"},
                     {"5's", "five s"}});
}

TEST(NormalizeTranscript, OtherPunctuationRemovedInPlace) {
  expect_normalized({{"Pleural effusion, 5 mm.", "pleural effusion five millimeters"},
                     {"e.g.", "eg"},
                     {"(normal)", "normal"},
                     {"no acute findings!?", "no acute findings"},
                     {"\xC2\xBFqu\xC3\xA9?", "qu\xC3\xA9"},   // ¿ is punctuation (Po)
                     {"a+b=c", "abc"},
                     {"± 2", "± two"}});                     // symbols other than % ° stay
}

TEST(NormalizeTranscript, WhitespaceAndControls) {
  expect_normalized({{"  a \t b\n\nc  ", "a b c"},
                     {"a\xC2\xA0" "b", "a b"},            // no-break space
                     {"a\xE2\x80\x8B" "b", "ab"},         // zero-width space (Cf) removed
                     {"a\x01" "b", "ab"},
                     {"", ""},
                     {"   ", ""},
                     {".,;", ""}});
}

TEST(NormalizeTranscript, InvalidUtf8BecomesReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  expect_normalized({{"a\xFF" "b", "a" + fffd + "b"},
                     {"\xC3", fffd},
                     {"x \xE2\x82 y", "x " + fffd + " y"},   // truncated sequence: one U+FFFD
                     {"\xED\xA0\x80", fffd + fffd + fffd}});  // a surrogate: three
  TranscriptErrors e;
  e.add("a\xFF", "a b");
  EXPECT_EQ(e.ref_words, 1);
  EXPECT_EQ(e.word_edits, 2);  // "a\uFFFD" -> "a", insert "b"
  EXPECT_EQ(e.ref_chars, 2);   // a, U+FFFD
  EXPECT_EQ(e.char_edits, 2);  // U+FFFD -> ' ', insert b
}

TEST(TranscriptErrors, TheMotivatingPairScoresZero) {
  TranscriptErrors e;
  e.add("Pleural effusion, 5 mm.", "pleural effusion five millimeters");
  EXPECT_EQ(e.word_edits, 0);
  EXPECT_EQ(e.char_edits, 0);
  EXPECT_EQ(e.ref_words, 4);
  EXPECT_EQ(e.ref_chars, 33);
  EXPECT_EQ(e.wer(), 0.0);
  EXPECT_EQ(e.cer(), 0.0);
}

TEST(TranscriptErrors, HandCountedEdits) {
  struct Case { const char* ref; const char* hyp; int64_t word_edits, ref_words, char_edits, ref_chars; };
  const std::vector<Case> cases = {
      {"a b c", "a b c", 0, 3, 0, 5},
      {"a b c", "a x c", 1, 3, 1, 5},               // one substitution
      {"a b c", "a c", 1, 3, 2, 5},                 // one deletion ("b " gone)
      {"a b c", "a b c d", 1, 3, 2, 5},             // one insertion (" d")
      {"a b c", "", 3, 3, 5, 5},
      {"", "a b", 2, 0, 3, 0},
      {"the cat sat", "cat sat down", 2, 3, 8, 11}, // words: -"the", +"down"; chars: 7 in-place substitutions + "n"
      {"kitten", "sitting", 1, 1, 3, 6},            // the classic: k->s, e->i, +g
      {"né", "ne", 1, 1, 1, 2},                     // code points, not bytes
      {"Left 5mm", "left five millimeter", 1, 3, 1, 21},
  };
  for (const auto& c : cases) {
    TranscriptErrors e;
    e.add(c.ref, c.hyp);
    EXPECT_EQ(e.word_edits, c.word_edits) << c.ref << " | " << c.hyp;
    EXPECT_EQ(e.ref_words, c.ref_words) << c.ref << " | " << c.hyp;
    EXPECT_EQ(e.char_edits, c.char_edits) << c.ref << " | " << c.hyp;
    EXPECT_EQ(e.ref_chars, c.ref_chars) << c.ref << " | " << c.hyp;
    EXPECT_EQ(e.utterances, 1);
  }
}

TEST(TranscriptErrors, RatesAreCorpusLevel) {
  TranscriptErrors e;
  e.add("a b c d", "a b c d");  // 0 / 4
  e.add("x", "y z");            // 2 / 1
  EXPECT_EQ(e.utterances, 2);
  EXPECT_DOUBLE_EQ(e.wer(), 2.0 / 5.0);  // not the mean of per-utterance rates (1.0)
  EXPECT_DOUBLE_EQ(e.cer(), 3.0 / 8.0);
}

TEST(TranscriptErrors, MergeSumsEveryCount) {
  TranscriptErrors a, b, both;
  a.add("pleural effusion", "pleural infusion");
  b.add("no pneumothorax 3 mm", "no pneumothorax");
  both.add("pleural effusion", "pleural infusion");
  both.add("no pneumothorax 3 mm", "no pneumothorax");
  a.merge(b);
  EXPECT_EQ(a.word_edits, both.word_edits);
  EXPECT_EQ(a.ref_words, both.ref_words);
  EXPECT_EQ(a.char_edits, both.char_edits);
  EXPECT_EQ(a.ref_chars, both.ref_chars);
  EXPECT_EQ(a.utterances, 2);
  EXPECT_EQ(a.word_edits, 3);
  EXPECT_EQ(a.ref_words, 6);
  TranscriptErrors empty;
  a.merge(empty);
  EXPECT_EQ(a.word_edits, 3);
}

TEST(TranscriptErrors, NaNWithoutReferenceText) {
  TranscriptErrors none;
  EXPECT_TRUE(std::isnan(none.wer()));
  EXPECT_TRUE(std::isnan(none.cer()));
  TranscriptErrors e;
  e.add("...", "something said");  // the reference normalises to nothing
  EXPECT_EQ(e.ref_words, 0);
  EXPECT_EQ(e.word_edits, 2);
  EXPECT_TRUE(std::isnan(e.wer()));
  EXPECT_TRUE(std::isnan(e.cer()));
  e.add("a", "a");
  EXPECT_DOUBLE_EQ(e.wer(), 2.0);
}

}  // namespace
}  // namespace medtrain::metrics
