// The text tagger's part of the walk: spans (code points) replaced in UTF-8 text,
// and deidentify() calling the tagger only on values that get "C", recording tags
// and offsets. The trained model behind it: tests/integration/deid_text_model_test.py.
#include <gtest/gtest.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "data/deid/deidentifier.h"
#include "data/deid/text_tagger.h"

namespace medtrain::data::deid {
namespace {

std::string replaced(const std::string& text, std::vector<FoundSpan> spans, std::vector<FoundSpan>* kept_out = nullptr) {
  std::vector<FoundSpan> kept;
  std::string out = replace_spans(text, std::move(spans), kept);
  if (kept_out) *kept_out = kept;
  return out;
}

TEST(ReplaceSpans, CodePointOffsetsInUtf8FromTheLastSpanBack) {
  // "Dr. Zoë Ångström, 東京" : ë, Å, ö are 2 bytes, 東 and 京 3 bytes each.
  const std::string text = "Dr. Zo\u00eb \u00c5ngstr\u00f6m, \u6771\u4eac";
  std::vector<FoundSpan> kept;
  EXPECT_EQ(replaced(text, {{18, 20, "ADDRESS"}, {4, 16, "NAME"}}, &kept), "Dr. [NAME], [ADDRESS]");
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].start, 4);  // sorted into text order
  EXPECT_EQ(kept[1].label, "ADDRESS");
  EXPECT_EQ(replaced("a \U0001F600 Bob", {{4, 7, "NAME"}}), "a \U0001F600 [NAME]");  // 4-byte character before
}

TEST(ReplaceSpans, OverlapsMergeOutOfRangeClipsEmptyIgnored) {
  std::vector<FoundSpan> kept;
  EXPECT_EQ(replaced("Ann Lee Smith", {{4, 13, "NAME"}, {0, 7, "NAME"}}, &kept), "[NAME]");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].end, 13);
  EXPECT_EQ(replaced("Bob x", {{1, 99, "NAME"}, {2, 2, "ID"}, {-5, -1, "ID"}}), "[NAME]");
  EXPECT_EQ(replaced("nothing", {}), "nothing");
}

TEST(ReplaceSpans, SpansGrowToTheWordsTheyTouch) {
  // A tagger that labels only word pieces must not leave the rest of a name.
  std::vector<FoundSpan> kept;
  EXPECT_EQ(replaced("Dr Wendell Pryce, CT", {{11, 14, "NAME"}}, &kept), "Dr Wendell [NAME], CT");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].start, 11);
  EXPECT_EQ(kept[0].end, 16);  // the audit records the widened span
  EXPECT_EQ(replaced("Dr Wendell Pryce", {{5, 12, "NAME"}}), "Dr [NAME]");  // [5,12) touches two words
  EXPECT_EQ(replaced("MRN 12345-678", {{6, 8, "ID"}}), "MRN [ID]-678");  // '-' ends a word
  EXPECT_EQ(replaced("Zo\u00eb", {{2, 3, "NAME"}}), "[NAME]");  // letters beyond ASCII are word characters
  EXPECT_EQ(replaced("\u6771\u4eac", {{1, 2, "ADDRESS"}}), "\u6771[ADDRESS]");  // each ideograph is a word
}

TEST(ReplaceSpans, IllFormedBytesCountAsOneCodePointEach) {
  // 0xFF is one U+FFFD for the tokenizer (data/text/utf8.h), so one code point here.
  EXPECT_EQ(replaced("\xff Bob", {{2, 5, "NAME"}}), "\xff [NAME]");
}

TEST(DeidTextTagger, OnlyCleanedTextIsTaggedAndOnlyOffsetsAreRecorded) {
  DcmFileFormat file;
  DcmDataset& ds = *file.getDataset();
  ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5.6");
  ds.putAndInsertString(DCM_PatientID, "MRN-1");
  ds.putAndInsertString(DCM_StudyDescription, "CT head, Dr. Wendell Pryce");
  ds.putAndInsertString(DCM_PatientAddress, "1 Pryce Road");  // X: never reaches the tagger
  std::vector<std::string> seen;
  DeidSettings s;
  s.options.set(ProfileOption::kCleanDescriptors);
  s.text_tagger = [&seen](const std::string& text) {
    seen.push_back(text);
    const auto at = text.find("Wendell Pryce");
    if (at == std::string::npos) return std::vector<FoundSpan>{};
    return std::vector<FoundSpan>{{static_cast<int64_t>(at), static_cast<int64_t>(at + 13), "NAME"}};
  };
  const DeidResult r = deidentify(file, Profile::basic(), Pseudonymizer("unit-test-key-0123456789"), s);
  OFString out;
  ds.findAndGetOFStringArray(DCM_StudyDescription, out);
  EXPECT_EQ(std::string(out.c_str()), "CT head, Dr. [NAME]");
  EXPECT_FALSE(ds.tagExists(DCM_PatientAddress));
  EXPECT_EQ(seen, std::vector<std::string>{"CT head, Dr. Wendell Pryce"});
  ASSERT_EQ(r.text_replacements.size(), 1u);
  EXPECT_EQ(r.text_replacements[0].tag, "(0008,1030)");
  EXPECT_EQ(r.text_replacements[0].start, 13);
  EXPECT_EQ(r.text_replacements[0].end, 26);
  EXPECT_EQ(r.text_replacements[0].label, "NAME");
  EXPECT_EQ(r.actions.at("(0008,1030)"), "C");
}

TEST(DeidTextTagger, WithoutATaggerNothingChanges) {
  DcmFileFormat file;
  file.getDataset()->putAndInsertString(DCM_StudyDescription, "CT head, Dr. Wendell Pryce");
  DeidSettings s;
  s.options.set(ProfileOption::kCleanDescriptors);
  const DeidResult r = deidentify(file, Profile::basic(), Pseudonymizer("unit-test-key-0123456789"), s);
  OFString out;
  file.getDataset()->findAndGetOFStringArray(DCM_StudyDescription, out);
  EXPECT_EQ(std::string(out.c_str()), "CT head, Dr. Wendell Pryce");
  EXPECT_TRUE(r.text_replacements.empty());
}

}  // namespace
}  // namespace medtrain::data::deid
