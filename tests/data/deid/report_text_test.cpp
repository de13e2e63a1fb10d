// Reports in the input tree (data/deid/report_text.h): which files are reports,
// where their bytes stop being UTF-8 (line and byte of the line), and the spans
// replaced with the line each starts on and code-point offsets in the report.
// With the trained tagger: tests/integration/deid_text_model_test.py.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/deid/report_text.h"

namespace medtrain::data::deid {
namespace {

TEST(ReportText, TxtFilesInAnyCaseAreReports) {
  EXPECT_TRUE(is_report_file("a/b/report.txt"));
  EXPECT_TRUE(is_report_file("REPORT.TXT"));
  EXPECT_FALSE(is_report_file("a/IM0001"));
  EXPECT_FALSE(is_report_file("a/report.txt.dcm"));
  EXPECT_FALSE(is_report_file("a/txt"));
}

TEST(ReportText, InvalidUtf8IsNamedByLineAndByteOfTheLine) {
  EXPECT_FALSE(invalid_utf8_in_report("EXAM: CT\nDr. N\u00fa\u00f1ez\n"));
  EXPECT_FALSE(invalid_utf8_in_report("a literal \xEF\xBF\xBD is text"));  // U+FFFD spelled out
  EXPECT_EQ(invalid_utf8_in_report("EXAM: CT\nDr. N\xfa\xf1" "ez\n").value_or(""),
            "line 2: invalid UTF-8 at byte offset 5 of the line (0-based; a report must be UTF-8)");
  EXPECT_EQ(invalid_utf8_in_report("\xff").value_or(""),
            "line 1: invalid UTF-8 at byte offset 0 of the line (0-based; a report must be UTF-8)");
  EXPECT_EQ(invalid_utf8_in_report("\xEF\xBF\xBD ok\n\n\xc0\xaf").value_or("").substr(0, 40),
            "line 3: invalid UTF-8 at byte offset 0 o");  // overlong '/'
}

TEST(ReportText, SpansAreReplacedAndRecordedByLineAndCodePoint) {
  // "Núñez" starts on line 3 at code point 30 (ú, ñ are two bytes each).
  const std::string text = "Patient: Ann Lee\nEXAM: CT\nDr. N\u00fa\u00f1ez, 555-1234.\n";
  std::vector<std::string> seen;
  const TextTagger tagger = [&seen](const std::string& t) {
    seen.push_back(t);
    return std::vector<FoundSpan>{{30, 35, "NAME"}, {9, 16, "NAME"}, {37, 45, "PHONE"}};
  };
  const CleanedReport r = clean_report(text, tagger);
  EXPECT_EQ(seen, std::vector<std::string>{text});  // the whole report at once: the tagger windows it
  EXPECT_EQ(r.text, "Patient: [NAME]\nEXAM: CT\nDr. [NAME], [PHONE].\n");
  ASSERT_EQ(r.replacements.size(), 3u);
  EXPECT_EQ(r.replacements[0].line, 1);
  EXPECT_EQ(r.replacements[0].start, 9);
  EXPECT_EQ(r.replacements[1].line, 3);
  EXPECT_EQ(r.replacements[1].start, 30);
  EXPECT_EQ(r.replacements[1].end, 35);
  EXPECT_EQ(r.replacements[2].label, "PHONE");
  EXPECT_EQ(r.replacements[2].line, 3);
}

TEST(ReportText, NothingFoundKeepsTheBytes) {
  const std::string text = "\xEF\xBB\xBFNo findings.\r\n";
  const CleanedReport r = clean_report(text, [](const std::string&) { return std::vector<FoundSpan>{}; });
  EXPECT_EQ(r.text, text);
  EXPECT_TRUE(r.replacements.empty());
}

}  // namespace
}  // namespace medtrain::data::deid
