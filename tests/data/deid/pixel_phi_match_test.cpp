// Which OCR words are PHI: the file's own values in every display layout the
// brief names (dates written out here by hand, not by the code under test),
// one-OCR-error tolerance, patterns with no vocabulary, and labels with the
// words after them on the same row only.
#include <gtest/gtest.h>

#include "data/deid/pixel_phi_match.h"

namespace medtrain::data::deid {
namespace {

OcrWord word(const std::string& text, int x = 0, int y = 0, int w = 40, int h = 12) { return {text, x, y, w, h, 90}; }

std::string kind_of(const std::string& text, const PhiVocabulary& v) {
  return classify_words({word(text)}, v).at(0);
}

PhiVocabulary sample() {
  PhiVocabulary v;
  v.add_person_name("DOE^JOHNATHAN^Q", "name");
  v.add_identifier("MRN48213", "id");
  v.add_identifier("A7731", "accession");
  v.add_date("20240314");
  v.add_date("19570802");
  v.add_time("143005.123");
  v.add_words("St Elsewhere General Hospital", "institution");
  v.add_person_name("HOUSE^GREGORY", "physician");
  return v;
}

TEST(PixelPhiMatch, NormalizeAndEditDistance) {
  EXPECT_EQ(normalize_word("Doe,^J.-1"), "doej1");
  EXPECT_EQ(normalize_word("\xc3\xa9t\xc3\xa9"), "t");  // non-ASCII dropped
  EXPECT_TRUE(within_one_edit("johnathan", "johnathan"));
  EXPECT_TRUE(within_one_edit("johnathan", "jonathan"));    // deletion
  EXPECT_TRUE(within_one_edit("johnathan", "johnathen"));   // substitution
  EXPECT_TRUE(within_one_edit("johnathan", "johnathann"));  // insertion at the end
  EXPECT_FALSE(within_one_edit("johnathan", "jonathen"));   // two edits
  EXPECT_FALSE(within_one_edit("abc", "abcde"));
}

TEST(PixelPhiMatch, NameParts) {
  const PhiVocabulary v = sample();
  EXPECT_EQ(kind_of("DOE", v), "ocr:name");
  EXPECT_EQ(kind_of("Johnathan", v), "ocr:name");
  EXPECT_EQ(kind_of("DOE^JOHNATHAN", v), "ocr:name");
  EXPECT_EQ(kind_of("Doe,", v), "ocr:name");           // punctuation stripped
  EXPECT_EQ(kind_of("Johnathon", v), "ocr:name");      // one OCR error, >= 5 characters
  EXPECT_EQ(kind_of("Q", v), "");                       // one-letter parts are not matched alone
  EXPECT_EQ(kind_of("Gregory", v), "ocr:physician");
  EXPECT_EQ(kind_of("Elsewhere", v), "ocr:institution");
  EXPECT_EQ(kind_of("Hospital", v), "ocr:institution");
  EXPECT_EQ(kind_of("Liver", v), "");
  EXPECT_EQ(kind_of("Dos", v), "");  // a short word is matched exactly only
}

TEST(PixelPhiMatch, DateLayouts) {
  const PhiVocabulary v = sample();
  // 2024-03-14 as m/d/yyyy, mm/dd/yyyy, dd.mm.yyyy, yyyy-mm-dd, yyyymmdd, d-Mon-yyyy.
  for (const char* text : {"3/14/2024", "03/14/2024", "14.03.2024", "2024-03-14", "20240314", "14-Mar-2024"}) {
    EXPECT_EQ(kind_of(text, v), "ocr:date") << text;
  }
  // 1957-08-02 (birth date): single-digit month and day.
  for (const char* text : {"8/2/1957", "08/02/1957", "02.08.1957", "1957-08-02", "19570802", "2-Aug-1957"}) {
    EXPECT_EQ(kind_of(text, v), "ocr:date") << text;
  }
  EXPECT_EQ(kind_of("14:30:05", v), "ocr:time");
  EXPECT_EQ(kind_of("143005", v), "ocr:time");
}

TEST(PixelPhiMatch, IdentifiersExactAndFuzzy) {
  const PhiVocabulary v = sample();
  EXPECT_EQ(kind_of("MRN48213", v), "ocr:id");
  EXPECT_EQ(kind_of("MRN4B213", v), "ocr:id");   // B read for 8
  EXPECT_EQ(kind_of("A7731", v), "ocr:accession");
  EXPECT_EQ(kind_of("ID:MRN48213", v), "ocr:id");  // glued to its label
}

TEST(PixelPhiMatch, PatternsWithoutVocabulary) {
  const PhiVocabulary none;
  for (const char* text : {"1/2/1999", "2001-12-31", "31.12.01", "3-Jan-2020", "Jan 3, 2020"}) {
    EXPECT_EQ(pattern_kind(text), "pattern:date") << text;
  }
  EXPECT_EQ(pattern_kind("09:41"), "pattern:time");
  EXPECT_EQ(pattern_kind("12:00:59"), "pattern:time");
  EXPECT_EQ(pattern_kind("123456"), "pattern:digits");
  EXPECT_EQ(pattern_kind("12-345-67"), "pattern:digits");
  EXPECT_EQ(pattern_kind("1234"), "");
  for (const char* text : {"DOB", "DOB:", "MRN", "ID:", "Name:", "Acc", "Pt", "Patient", "Name:Smith"}) {
    EXPECT_EQ(pattern_kind(text), "pattern:label") << text;
  }
  EXPECT_EQ(pattern_kind("LIVER"), "");
  EXPECT_EQ(pattern_kind("15cm"), "");
  EXPECT_EQ(kind_of("19570802", none), "pattern:digits");
}

TEST(PixelPhiMatch, WordsAfterALabelOnTheSameRow) {
  const PhiVocabulary none;
  const std::vector<OcrWord> words = {
      word("Name:", 10, 10, 40, 12),  word("Ann", 56, 11, 30, 12), word("Other", 92, 10, 50, 12),
      word("far", 600, 10, 30, 12),   // same row, beyond 4 heights of gap: not chained
      word("Liver", 56, 40, 50, 12),  // the next row: not after the label
      word("Left", 0, 10, 2, 12),     // left of the label, not touching it
  };
  const auto kinds = classify_words(words, none);
  EXPECT_EQ(kinds[0], "pattern:label");
  EXPECT_EQ(kinds[1], "pattern:after-label");
  EXPECT_EQ(kinds[2], "pattern:after-label");
  EXPECT_EQ(kinds[3], "");
  EXPECT_EQ(kinds[4], "");
  EXPECT_EQ(kinds[5], "");
}

TEST(PixelPhiMatch, FragmentsTouchingPhiArePhi) {
  const PhiVocabulary v = sample();
  const std::vector<OcrWord> words = {
      word("KOWALC", 0, 0, 60, 14), word("DOE^JOHN", 62, 0, 80, 14),  // matched
      word("HE", 144, 1, 20, 14),                                      // touches it: a fragment
      word("X", 166, 0, 8, 14),                                        // touches the fragment: chained
      word("LIVER", 200, 0, 50, 14),                                   // a gap of 26 px > h/2
      word("ab", 62, 16, 20, 14),                                      // the next row
  };
  const auto kinds = classify_words(words, v);
  EXPECT_EQ(kinds[0], "pattern:fragment");  // touches DOE^JOHN on its left
  EXPECT_EQ(kinds[1], "ocr:name");
  EXPECT_EQ(kinds[2], "pattern:fragment");
  EXPECT_EQ(kinds[3], "pattern:fragment");
  EXPECT_EQ(kinds[4], "");
  EXPECT_EQ(kinds[5], "");
}

TEST(PixelPhiMatch, EmptyAndJunkValuesAddNothing) {
  PhiVocabulary v;
  v.add_person_name("", "name");
  v.add_identifier("", "id");
  v.add_date("2024");      // not a date
  v.add_date("2024AB14");  // not digits
  v.add_time("1");
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.match(""), "");
}

}  // namespace
}  // namespace medtrain::data::deid
