// read_text_manifest: a good JSONL manifest parses into the rows written (span
// offsets in code points); every bad one stops with "<path>:<line>: <what>".
#include "data/text/text_manifest.h"

#include <gtest/gtest.h>

#include "data/data_error.h"
#include "data/text/utf8.h"
#include "tests/common/temp_dir.h"

namespace medtrain::data::text {
namespace {

using medtrain::testing::TempDir;

// The code points [start, end) of UTF-8 `s`, as UTF-8.
std::string cp_substr(const std::string& s, int64_t start, int64_t end) {
  const DecodedText d = decode_utf8_lossy(s);
  return s.substr(d.byte_start[start], d.byte_start[end] - d.byte_start[start]);
}

class TextManifestTest : public ::testing::Test {
 protected:
  TextManifest read(const std::string& jsonl, const std::string& split = "") {
    dir_.write("reports.jsonl", jsonl);
    TextManifestOptions o;
    o.path = dir_.str("reports.jsonl");
    o.split = split;
    o.label_names = label_names_;
    return read_text_manifest(o);
  }
  // Expects a one-line DataError starting with "<path>:<line>: " and holding `part`.
  void expect_error(const std::string& jsonl, int line, const std::string& part) {
    try {
      read(jsonl);
      ADD_FAILURE() << "no error for:\n" << jsonl;
    } catch (const DataError& e) {
      const std::string msg = e.what();
      const std::string where = dir_.str("reports.jsonl") + (line > 0 ? ":" + std::to_string(line) : "") + ": ";
      EXPECT_EQ(msg.rfind(where, 0), 0u) << "expected prefix '" << where << "' in: " << msg;
      EXPECT_NE(msg.find(part), std::string::npos) << "'" << part << "' not in: " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "not one line: " << msg;
    }
  }
  TempDir dir_;
  std::vector<std::string> label_names_;
};

constexpr const char* kGood = R"({"id": "a", "patient": "P1", "split": "train", "text": "No effusion.", "labels": []}
{"id": "b", "text": "Small nodule.", "labels": ["nodule"], "extra": {"x": 1}}
)";

TEST_F(TextManifestTest, ParsesRowsInFileOrder) {
  const TextManifest m = read(std::string("\xEF\xBB\xBF") + kGood);
  ASSERT_EQ(m.rows.size(), 2u);
  EXPECT_EQ(m.path, dir_.str("reports.jsonl"));
  EXPECT_EQ(m.rows[0].id, "a");
  EXPECT_EQ(m.rows[0].patient, "P1");
  EXPECT_EQ(m.rows[0].split, "train");
  EXPECT_EQ(m.rows[0].text, "No effusion.");
  EXPECT_TRUE(m.rows[0].labels.empty());
  EXPECT_EQ(m.rows[0].line, 1u);
  EXPECT_EQ(m.rows[1].id, "b");
  EXPECT_EQ(m.rows[1].patient, "");
  EXPECT_EQ(m.rows[1].labels, std::vector<std::string>{"nodule"});
  EXPECT_EQ(m.rows[1].line, 2u);
  EXPECT_TRUE(m.has_labels);
  EXPECT_FALSE(m.has_spans);
}

TEST_F(TextManifestTest, SkipsBlankLinesAndCrLfAndCountsLines) {
  const TextManifest m = read("\n  \r\n{\"id\": \"x\", \"text\": \"t\"}\r\n\n{\"id\": \"y\", \"text\": \"u\"}");
  ASSERT_EQ(m.rows.size(), 2u);
  EXPECT_EQ(m.rows[0].line, 3u);
  EXPECT_EQ(m.rows[1].line, 5u);
  EXPECT_FALSE(m.has_labels);
}

TEST_F(TextManifestTest, SpanOffsetsAreCodePointsAndSortedByStart) {
  // "José Müller 😀 DOB 03/14/1962": é, ü are 2 bytes, the emoji 4 bytes, each one code point.
  const std::string text = "Jos\xC3\xA9 M\xC3\xBCller \xF0\x9F\x98\x80 DOB 03/14/1962";
  const std::string row = R"({"id": "r", "text": ")" + text +
                          R"(", "spans": [{"start": 18, "end": 28, "label": "DATE"}, {"start": 0, "end": 11, "label": "NAME"}]})";
  const TextManifest m = read(row + "\n");
  ASSERT_EQ(m.rows.size(), 1u);
  const TextRow& r = m.rows[0];
  ASSERT_EQ(r.spans.size(), 2u);
  EXPECT_TRUE(m.has_spans);
  EXPECT_EQ(r.spans[0].label, "NAME");
  EXPECT_EQ(cp_substr(r.text, r.spans[0].start, r.spans[0].end), "Jos\xC3\xA9 M\xC3\xBCller");
  EXPECT_EQ(r.spans[1].label, "DATE");
  EXPECT_EQ(cp_substr(r.text, r.spans[1].start, r.spans[1].end), "03/14/1962");
  // The last code point may end a span (28 code points, 33 bytes).
  EXPECT_NO_THROW(read(R"({"id": "r", "text": ")" + text + R"(", "spans": [{"start": 27, "end": 28, "label": "X"}]})"));
  // JSON escapes count as the code points they stand for: \u00e9 is one, \ud83d\ude00 is one.
  const TextManifest e = read(R"({"id": "e", "text": "\u00e9\ud83d\ude00a", "spans": [{"start": 2, "end": 3, "label": "X"}]})");
  EXPECT_EQ(cp_substr(e.rows[0].text, 2, 3), "a");
}

TEST_F(TextManifestTest, SplitFilterKeepsFileOrderButChecksEveryRow) {
  const std::string two = R"({"id": "a", "patient": "P1", "split": "train", "text": "x"}
{"id": "b", "patient": "P2", "split": "val", "text": "y"}
{"id": "c", "patient": "P1", "split": "train", "text": "z"}
)";
  const TextManifest train = read(two, "train");
  ASSERT_EQ(train.rows.size(), 2u);
  EXPECT_EQ(train.rows[0].id, "a");
  EXPECT_EQ(train.rows[1].id, "c");
  EXPECT_EQ(read(two, "val").rows.size(), 1u);
  EXPECT_TRUE(read(two, "test").rows.empty());  // no rows of a split is not an error
  // A bad val row fails a train reader too.
  try {
    read(two + R"({"id": "d", "split": "val", "text": ""})" "\n", "train");
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(":4: "), std::string::npos) << e.what();
  }
}

TEST_F(TextManifestTest, LabelNamesAllowListedLabelsAndSpanLabels) {
  label_names_ = {"effusion", "NAME"};
  EXPECT_NO_THROW(read(R"({"id": "a", "text": "Ann", "labels": ["effusion"], "spans": [{"start": 0, "end": 3, "label": "NAME"}]})"));
}

TEST_F(TextManifestTest, UnreadableFile) {
  TextManifestOptions o;
  o.path = dir_.str("missing.jsonl");
  EXPECT_THROW(read_text_manifest(o), DataError);
  o.path = dir_.str();  // a folder
  EXPECT_THROW(read_text_manifest(o), DataError);
}

TEST_F(TextManifestTest, NoRows) {
  expect_error("", 0, "no rows");
  expect_error("\n \n\r\n", 0, "no rows");
}

TEST_F(TextManifestTest, NotJsonOrNotAnObject) {
  expect_error("{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"b\",\n", 2, "not valid JSON");
  expect_error("{\"id\": \"a\", \"text\": \"x\"} trailing\n", 1, "not valid JSON");
  expect_error("[1, 2]\n", 1, "expected a JSON object, got array");
  expect_error("\"text\"\n", 1, "expected a JSON object, got string");
}

// Found by tests/fuzz/manifest_fuzz.cpp: nlohmann raises out_of_range, not
// parse_error, for a number past a double's range, and it escaped as an
// unexplained exception. Python reads 1e400 as inf; no key here takes one.
TEST_F(TextManifestTest, NumberOutOfRangeIsADataErrorNamingTheLine) {
  expect_error("{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"b\", \"text\": \"y\", \"n\": 1e400}\n", 2,
               "a number out of range (number overflow parsing '1e400')");
  expect_error("6666e6666\n", 1, "a number out of range");
}

TEST_F(TextManifestTest, MissingOrIllTypedKeys) {
  expect_error(R"({"text": "x"})", 1, "missing required key \"id\"");
  expect_error("\n" R"({"id": "a"})", 2, "missing required key \"text\"");
  expect_error(R"({"id": 7, "text": "x"})", 1, "\"id\" must be a string, got number");
  expect_error(R"({"id": "a", "text": ["x"]})", 1, "\"text\" must be a string, got array");
  expect_error(R"({"id": "a", "text": "x", "patient": 3})", 1, "\"patient\" must be a string");
  expect_error(R"({"id": "a", "text": "x", "split": null})", 1, "\"split\" must be a string, got null");
  expect_error(R"({"id": "a", "text": "x", "labels": "effusion"})", 1, "\"labels\" must be an array of strings");
  expect_error(R"({"id": "a", "text": "x", "labels": ["a", 1]})", 1, "\"labels\" must be an array of strings");
  expect_error(R"({"id": "a", "text": "x", "spans": {}})", 1, "\"spans\" must be an array");
  expect_error(R"({"id": "a", "text": "x", "spans": [3]})", 1, "span 0 must be an object");
  expect_error(R"({"id": "a", "text": "x", "spans": [{"end": 1, "label": "A"}]})", 1, "span 0: \"start\" is missing");
  expect_error(R"({"id": "a", "text": "x", "spans": [{"start": 0, "end": 1.5, "label": "A"}]})", 1,
               "span 0: \"end\" must be an integer");
  expect_error(R"({"id": "a", "text": "x", "spans": [{"start": 0, "end": "1", "label": "A"}]})", 1,
               "span 0: \"end\" must be an integer");
  expect_error(R"({"id": "a", "text": "x", "spans": [{"start": 0, "end": 1}]})", 1, "span 0: \"label\" must be a string");
  expect_error(R"({"id": "a", "text": "x", "spans": [{"start": 0, "end": 18446744073709551615, "label": "A"}]})", 1,
               "out of range");
}

TEST_F(TextManifestTest, DuplicateOrEmptyId) {
  expect_error("{\"id\": \"a\", \"text\": \"x\"}\n\n{\"id\": \"a\", \"text\": \"y\"}\n", 3,
               "duplicate id \"a\" (first on line 1)");
  expect_error(R"({"id": "", "text": "x"})", 1, "empty \"id\"");
}

TEST_F(TextManifestTest, EmptyText) {
  expect_error("{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"b\", \"text\": \"\"}\n", 2, "empty \"text\"");
}

// `medtrain infer` on transcripts: a silent dictation's "" is a row, and the
// transcript's own keys (tokens, avg_logprob, ...) are ignored.
TEST_F(TextManifestTest, EmptyTextAllowedForInference) {
  dir_.write("t.jsonl", "{\"id\": \"a.wav\", \"text\": \"x\", \"tokens\": [87], \"avg_logprob\": -0.2}\n"
                        "{\"id\": \"b.wav\", \"text\": \"\", \"tokens\": [], \"avg_logprob\": null}\n");
  TextManifestOptions o;
  o.path = dir_.str("t.jsonl");
  o.allow_empty_text = true;
  const TextManifest m = read_text_manifest(o);
  ASSERT_EQ(m.rows.size(), 2u);
  EXPECT_EQ(m.rows[0].text, "x");
  EXPECT_EQ(m.rows[1].id, "b.wav");
  EXPECT_EQ(m.rows[1].text, "");
}

TEST_F(TextManifestTest, InvalidUtf8NamesTheByteOffset) {
  // {"id": "a", "text": "ab<FF>"}: the bad byte is at offset 23 of the line (0-based).
  expect_error("{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"a\", \"text\": \"ab\xFF\"}\n", 2,
               "invalid UTF-8 at byte offset 23 of the line");
  // A truncated 3-byte sequence and an encoded surrogate are refused too.
  expect_error("{\"id\": \"a\", \"text\": \"\xE6\x97\"}", 1, "invalid UTF-8 at byte offset 21");
  expect_error("{\"id\": \"a\", \"text\": \"\xED\xA0\x80\"}", 1, "invalid UTF-8 at byte offset 21");
  // A real U+FFFD is valid text.
  EXPECT_NO_THROW(read("{\"id\": \"a\", \"text\": \"\xEF\xBF\xBD\"}"));
}

TEST_F(TextManifestTest, LabelNotInLabelNamesListsTheAllowedOnes) {
  label_names_ = {"effusion", "nodule"};
  expect_error("{\"id\": \"a\", \"text\": \"x\", \"labels\": [\"effusion\"]}\n"
               "{\"id\": \"b\", \"text\": \"x\", \"labels\": [\"Effusion\"]}\n",
               2, "label \"Effusion\" is not a label name (allowed: effusion, nodule)");
  expect_error(R"({"id": "a", "text": "xyz", "spans": [{"start": 0, "end": 1, "label": "NAME"}]})", 1,
               "span 0 label \"NAME\" is not a label name (allowed: effusion, nodule)");
}

TEST_F(TextManifestTest, BadSpans) {
  const std::string head = R"({"id": "a", "text": "Jos\u00e9 \ud83d\ude00", "spans": [)";  // 6 code points, 9 bytes
  expect_error(head + R"({"start": -1, "end": 2, "label": "A"}]})", 1, "span 0 [-1, 2): start is negative");
  expect_error(head + R"({"start": 2, "end": 2, "label": "A"}]})", 1, "span 0 [2, 2): end must be greater than start");
  expect_error(head + R"({"start": 3, "end": 1, "label": "A"}]})", 1, "end must be greater than start");
  expect_error(head + R"({"start": 0, "end": 7, "label": "A"}]})", 1, "end is past the text, which has 6 code points");
  EXPECT_NO_THROW(read(head + R"({"start": 5, "end": 6, "label": "A"}]})"));
  expect_error(head + R"({"start": 3, "end": 6, "label": "B"}, {"start": 0, "end": 4, "label": "A"}]})", 1,
               "spans overlap: [0, 4) A and [3, 6) B");
  EXPECT_NO_THROW(read(head + R"({"start": 4, "end": 6, "label": "B"}, {"start": 0, "end": 4, "label": "A"}]})"));
}

TEST_F(TextManifestTest, PatientInTwoSplits) {
  expect_error(R"({"id": "a", "patient": "P1", "split": "train", "text": "x"}
{"id": "b", "patient": "P2", "split": "val", "text": "x"}
{"id": "c", "patient": "P1", "split": "val", "text": "x"}
)",
               3, "patient \"P1\" is in split \"val\" here but in split \"train\" on line 1");
}

}  // namespace
}  // namespace medtrain::data::text
