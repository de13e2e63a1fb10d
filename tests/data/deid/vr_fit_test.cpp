// Note [Replacements fit the VR] (data/deid/vr_fit.h): "[LABEL]" when it fits,
// "[L]" when only that fits, else the value cut to the VR's maximum; and
// through deidentify(), SH values cleaned by a tagger stay within 16 characters.
#include <gtest/gtest.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <string>
#include <vector>

#include "data/deid/deidentifier.h"
#include "data/deid/vr_fit.h"

namespace medtrain::data::deid {
namespace {

FittedText fit(const std::string& text, std::vector<FoundSpan> spans, const std::string& vr) {
  std::vector<FoundSpan> kept;
  return replace_spans_for_vr(text, std::move(spans), vr, kept);
}

TEST(VrFit, FullTokensWhenTheyFit) {
  const FittedText f = fit("Dr Al Bo", {{3, 8, "NAME"}}, "SH");
  EXPECT_EQ(f.text, "Dr [NAME]");
  EXPECT_EQ(f.fit, VrFit::kAsIs);
  EXPECT_EQ(fit("Seen by Al", {{8, 10, "NAME"}}, "UT").text, "Seen by [NAME]");  // no limit
}

TEST(VrFit, ShortTokensWhenTheFullOnesOutgrowTheVr) {
  // "Dr [NAME], [NAME]" is 17 characters: one more than SH allows.
  const FittedText f = fit("Dr Al Bo, Jo Li", {{3, 8, "NAME"}, {10, 15, "NAME"}}, "SH");
  EXPECT_EQ(f.text, "Dr [N], [N]");
  EXPECT_EQ(f.fit, VrFit::kShortTokens);
}

TEST(VrFit, CutWhenEvenShortTokensDoNotFit) {
  // 8 one-letter names: even "[N]" each makes 31 characters, cut to 16.
  std::string text;
  std::vector<FoundSpan> spans;
  for (int i = 0; i < 8; ++i) {
    spans.push_back({static_cast<int64_t>(text.size()), static_cast<int64_t>(text.size() + 1), "NAME"});
    text += "A ";
  }
  text.pop_back();  // 15 characters
  const FittedText f = fit(text, spans, "SH");
  EXPECT_EQ(f.fit, VrFit::kTruncated);
  EXPECT_EQ(f.text, "[N] [N] [N] [N] ");
  EXPECT_EQ(f.text.find('A'), std::string::npos);  // nothing a span covered comes back
}

TEST(VrFit, MultiValuedVrsAreMeasuredPerValue) {
  // Two SH values of 9 characters each: each fits although the whole is 19.
  const FittedText f = fit("Dr Al Bo\\Dr Jo Lin", {{3, 8, "NAME"}, {12, 18, "NAME"}}, "SH");
  EXPECT_EQ(f.text, "Dr [NAME]\\Dr [NAME]");
  EXPECT_EQ(f.fit, VrFit::kAsIs);
  // ST is one value: a backslash is text, so the whole counts.
  EXPECT_EQ(vr_limit("ST").multi_valued, false);
}

TEST(VrFit, CharactersAreCodePointsInUtf8) {
  // SH counts characters, not bytes: 16 code points in 21 bytes fit.
  const std::string text = "Dr \u00d8 Zo\u00eb \u00c5\u00c5\u00c5\u00c5";  // 13 code points
  const FittedText f = fit(text, {{5, 8, "NAME"}}, "SH");
  EXPECT_EQ(f.text, "Dr \u00d8 [NAME] \u00c5\u00c5\u00c5\u00c5");  // 16 code points, 21 bytes: fits
  EXPECT_EQ(f.fit, VrFit::kAsIs);
  EXPECT_EQ(value_chars("\u00c5\u00c5"), 2u);
  EXPECT_EQ(value_chars("\xff\xfe"), 2u);  // not UTF-8: bytes
}

TEST(VrFit, CutNeverSplitsACharacter) {
  // 14 two-byte characters and a name: cut at 16 characters, whole ones.
  std::string text;
  for (int i = 0; i < 14; ++i) text += "\u00c5";
  text += " Al";
  const FittedText f = fit(text, {{15, 17, "NAME"}}, "SH");
  EXPECT_EQ(f.fit, VrFit::kTruncated);
  EXPECT_EQ(value_chars(f.text), 16u);
  EXPECT_EQ(f.text.substr(f.text.size() - 2), " [");
}

TEST(VrFit, CodeStringsGetCodeStringTokens) {
  EXPECT_EQ(fit("BY AL", {{3, 5, "NAME"}}, "CS").text, "BY NAME");
  EXPECT_EQ(fit("BY AL BO CY DI", {{3, 5, "NAME"}, {6, 8, "NAME"}, {9, 11, "NAME"}, {12, 14, "NAME"}}, "CS").text,
            "BY N N N N");
}

TEST(VrFit, NothingFoundLeavesTheValueAlone) {
  const std::string long_value(40, 'x');  // over SH already: not ours to cut
  const FittedText f = fit(long_value, {}, "SH");
  EXPECT_EQ(f.text, long_value);
  EXPECT_EQ(f.fit, VrFit::kAsIs);
}

TEST(DeidVrFit, ATaggedShValueStaysWithinSixteenCharacters) {
  DcmFileFormat file;
  DcmDataset& ds = *file.getDataset();
  ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5.6");
  ds.putAndInsertString(DCM_RTPlanLabel, "Dr Al Bo, Jo Li");  // SH, "C" under clean-descriptors
  DeidSettings s;
  s.options.set(ProfileOption::kCleanDescriptors);
  s.text_tagger = [](const std::string& text) {
    std::vector<FoundSpan> spans;
    for (const std::string name : {"Al Bo", "Jo Li"}) {
      const auto at = text.find(name);
      if (at != std::string::npos) spans.push_back({static_cast<int64_t>(at), static_cast<int64_t>(at + 5), "NAME"});
    }
    return spans;
  };
  const DeidResult r = deidentify(file, Profile::basic(), Pseudonymizer("unit-test-key-0123456789"), s);
  OFString out;
  ds.findAndGetOFStringArray(DCM_RTPlanLabel, out);
  EXPECT_EQ(std::string(out.c_str()), "Dr [N], [N]");
  DcmElement* el = nullptr;
  ASSERT_TRUE(ds.findAndGetElement(DCM_RTPlanLabel, el).good());
  EXPECT_TRUE(el->checkValue().good());  // DCMTK's own VR check
  EXPECT_EQ(r.text_fitted.at("(300A,0002)"), "short_tokens");
  ASSERT_EQ(r.text_replacements.size(), 2u);
  EXPECT_EQ(r.text_replacements[1].start, 10);  // offsets in the value as tagged, not as written
}

}  // namespace
}  // namespace medtrain::data::deid
