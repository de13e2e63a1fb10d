// write_synthetic_reports: deterministic in the seed, spans cover the planted
// values, labels agree with what the sentences say (Note [U-Ones]), patients
// stay in one split, and the file reads back through read_text_manifest.
#include "data/text/synthetic_reports.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "data/data_error.h"
#include "data/text/text_manifest.h"
#include "data/text/utf8.h"
#include "tests/common/temp_dir.h"

namespace medtrain::data::text {
namespace {

using medtrain::testing::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool has(const std::string& s, std::initializer_list<const char*> words) {
  return std::any_of(words.begin(), words.end(), [&](const char* w) { return s.find(w) != std::string::npos; });
}

// Sentences (and clauses after ';'), section headings removed.
std::vector<std::string> sentences(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  const auto flush = [&] {
    for (const char* head : {"FINDINGS:", "IMPRESSION:", "INDICATION:", "EXAM:"}) {
      if (cur.rfind(head, 0) == 0) cur.erase(0, std::string(head).size());
    }
    const size_t b = cur.find_first_not_of(' ');
    if (b != std::string::npos) out.push_back(cur.substr(b));
    cur.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool end = c == '\n' || ((c == '.' || c == ';') && (i + 1 == text.size() || text[i + 1] == ' ' || text[i + 1] == '\n'));
    if (end) {
      flush();
    } else {
      cur += c;
    }
  }
  flush();
  return out;
}

// What a reader of the sentence would say about the finding it mentions.
bool uncertain(const std::string& s) {
  return has(lower(s), {"possibl", "questionable", "equivocal", "cannot", "not excluded", "may represent", "borderline",
                        "difficult to assess"});
}
bool negated(const std::string& s) {
  const std::string l = lower(s);
  return l.rfind("no ", 0) == 0 || has(l, {"there is no ", "negative for", "without", "not seen", "has resolved",
                                           "no longer seen", "is normal", "normal heart size", "within normal limits",
                                           "not enlarged", "are sharp"});
}
bool mentions(const std::string& s, size_t finding) {
  const std::string l = lower(s);
  switch (finding) {
    case 0: return has(l, {"pneumothora", "visceral pleural line", "thin pleural line"});
    case 1: return has(l, {"effusion", "pleural fluid", "costophrenic"});
    case 2: return has(l, {"consolidation", "airspace", "infiltrate"});
    case 3: return has(l, {"cardiomegaly", "cardiac silhouette", "heart", "cardiomediastinal"});
    default: return has(l, {"nodul"});
  }
}

std::string cp_substr(const std::string& s, int64_t start, int64_t end) {
  const DecodedText d = decode_utf8_lossy(s);
  EXPECT_LE(static_cast<size_t>(end), d.chars.size());
  return s.substr(d.byte_start[start], d.byte_start[end] - d.byte_start[start]);
}

class SyntheticReportsTest : public ::testing::Test {
 protected:
  TextManifest write(uint64_t seed, int64_t count = 400, int64_t patients = 120) {
    ReportOptions o;
    o.out_dir = dir_.str("out");
    o.count = count;
    o.patients = patients;
    o.seed = seed;
    summary_ = write_synthetic_reports(o);
    TextManifestOptions r;
    r.path = summary_.path;
    return read_text_manifest(r);
  }
  TempDir dir_;
  ReportSummary summary_;
};

TEST_F(SyntheticReportsTest, DeterministicInSeed) {
  write(7);
  const std::string a = slurp(summary_.path);
  write(7);
  EXPECT_EQ(slurp(summary_.path), a);
  write(8);
  EXPECT_NE(slurp(summary_.path), a);
}

TEST_F(SyntheticReportsTest, SummaryCountsAndSplitsByPatient) {
  const TextManifest m = write(1, 400, 120);
  ASSERT_EQ(m.rows.size(), 400u);
  EXPECT_EQ(summary_.path, dir_.str("out") + "/reports.jsonl");
  EXPECT_EQ(summary_.reports, 400);
  EXPECT_EQ(summary_.patients, 120);
  EXPECT_EQ(summary_.val_patients, 30);  // 25% of 120
  EXPECT_EQ(summary_.train_patients, 90);
  EXPECT_EQ(summary_.train_reports + summary_.val_reports, 400);
  std::map<std::string, std::string> split_of;
  std::map<std::string, int64_t> rows_per_split;
  int64_t spans = 0;
  for (const TextRow& r : m.rows) {
    const auto [it, fresh] = split_of.emplace(r.patient, r.split);
    EXPECT_EQ(it->second, r.split) << "patient " << r.patient << " in two splits";
    EXPECT_TRUE(r.split == "train" || r.split == "val") << r.split;
    rows_per_split[r.split] += 1;
    spans += static_cast<int64_t>(r.spans.size());
  }
  EXPECT_EQ(split_of.size(), 120u);
  EXPECT_EQ(rows_per_split["val"], summary_.val_reports);
  EXPECT_EQ(summary_.spans, spans);
  EXPECT_TRUE(m.has_labels);
  EXPECT_TRUE(m.has_spans);
}

TEST_F(SyntheticReportsTest, SpansCoverPlantedPhiWithTheRightLabel) {
  const TextManifest m = write(2);
  const std::regex date(R"(\d{2}/\d{2}/\d{4}|\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]{2} \d{4}|\d{1,2}/\d{1,2}/\d{2})");
  const std::regex id(R"(\d{7}|00\d{7}|A\d{8}|ACC-\d{4}-\d{6})");
  const std::regex phone(R"(\(\d{3}\) 555-\d{4}|\d{3}-555-\d{4}|\d{3}\.555\.\d{4}|\+1 \d{3} 555 \d{4})");
  const std::regex address(R"(\d{1,3} [^,]+, [^,.]+)");
  std::map<std::string, int> per_label;
  bool multibyte_before_span = false;
  for (const TextRow& r : m.rows) {
    for (const TextSpan& s : r.spans) {
      const std::string v = cp_substr(r.text, s.start, s.end);
      per_label[s.label] += 1;
      if (s.label == "DATE") EXPECT_TRUE(std::regex_match(v, date)) << v;
      if (s.label == "ID") EXPECT_TRUE(std::regex_match(v, id)) << v;
      if (s.label == "PHONE") EXPECT_TRUE(std::regex_match(v, phone)) << v;
      if (s.label == "ADDRESS") EXPECT_TRUE(std::regex_match(v, address)) << v;
      if (s.label == "NAME") {
        EXPECT_FALSE(v.empty());
        EXPECT_EQ(v.find_first_of("0123456789\n"), std::string::npos) << v;
        // What precedes a name says it is one.
        const std::string before = cp_substr(r.text, std::max<int64_t>(0, s.start - 9), s.start);
        EXPECT_TRUE(has(before, {"Patient: ", "Name: ", "Pt: ", "Dr. "})) << "'" << before << "' before " << v;
      }
      EXPECT_EQ(v.front() != ' ' && v.back() != ' ' && v.back() != '.', true) << "'" << v << "'";
      const DecodedText d = decode_utf8_lossy(r.text);
      if (d.byte_start[s.start] != static_cast<uint32_t>(s.start)) multibyte_before_span = true;
    }
  }
  for (const std::string& l : report_phi_labels()) EXPECT_GT(per_label[l], 0) << l;
  EXPECT_EQ(per_label.size(), 5u);
  EXPECT_TRUE(multibyte_before_span) << "no span where code points and bytes differ";
}

TEST_F(SyntheticReportsTest, LabelsAgreeWithTheSentences) {
  const TextManifest m = write(3, 600, 200);
  const auto& names = report_finding_names();
  int only_no_pneumothorax = 0;
  std::vector<int> positive(5), negated_mentions(5), uncertain_labelled(5);
  for (const TextRow& r : m.rows) {
    const std::vector<std::string> ss = sentences(r.text);
    EXPECT_LE(std::count(r.text.begin(), r.text.end(), ' ') + 1, 125) << r.text;
    for (size_t f = 0; f < 5; ++f) {
      const bool listed = std::find(r.labels.begin(), r.labels.end(), names[f]) != r.labels.end();
      std::vector<std::string> about;
      for (const std::string& s : ss) {
        if (mentions(s, f)) about.push_back(s);
      }
      // Listed (positive or uncertain) <=> some mention is not a plain negation.
      const bool affirmed = std::any_of(about.begin(), about.end(),
                                        [](const std::string& s) { return uncertain(s) || !negated(s); });
      EXPECT_EQ(listed, affirmed) << names[f] << " in " << r.id << ":\n" << r.text;
      positive[f] += listed;
      if (!listed && !about.empty()) negated_mentions[f] += 1;
      if (listed && std::all_of(about.begin(), about.end(), [](const std::string& s) { return uncertain(s); })) {
        uncertain_labelled[f] += 1;
      }
      if (f == 0 && about.size() == 1 && about[0] == "No pneumothorax") {
        EXPECT_FALSE(listed) << r.text;
        ++only_no_pneumothorax;
      }
    }
  }
  EXPECT_GT(only_no_pneumothorax, 0);
  for (size_t f = 0; f < 5; ++f) {
    EXPECT_GT(positive[f], 60) << names[f];
    EXPECT_GT(negated_mentions[f], 60) << names[f] << ": the keyword appears in unlisted reports too";
    EXPECT_GT(uncertain_labelled[f], 10) << names[f] << ": uncertain mentions are listed (U-Ones)";
  }
}

TEST_F(SyntheticReportsTest, ReadsBackWithTheLabelNames) {
  write(4);
  TextManifestOptions findings;
  findings.path = summary_.path;
  findings.split = "val";
  // One label_names list checks both "labels" and span labels: allow the findings and the PHI labels.
  findings.label_names = report_finding_names();
  for (const std::string& l : report_phi_labels()) findings.label_names.push_back(l);
  const TextManifest val = read_text_manifest(findings);
  EXPECT_EQ(static_cast<int64_t>(val.rows.size()), summary_.val_reports);
  for (const TextRow& r : val.rows) {
    for (const std::string& l : r.labels) {
      const auto& n = report_finding_names();
      EXPECT_NE(std::find(n.begin(), n.end(), l), n.end()) << l;
    }
    for (const TextSpan& s : r.spans) {
      const auto& n = report_phi_labels();
      EXPECT_NE(std::find(n.begin(), n.end(), s.label), n.end()) << s.label;
    }
  }
  // The five findings alone refuse the PHI span labels.
  findings.label_names = report_finding_names();
  EXPECT_THROW(read_text_manifest(findings), DataError);
}

TEST_F(SyntheticReportsTest, RefusesBadOptions) {
  ReportOptions o;
  o.out_dir = dir_.str("bad");
  o.count = 0;
  EXPECT_THROW(write_synthetic_reports(o), DataError);
  o.count = 10;
  o.patients = 11;
  EXPECT_THROW(write_synthetic_reports(o), DataError);
  o.patients = 1;
  EXPECT_THROW(write_synthetic_reports(o), DataError);  // val_fraction 0.25 needs two patients
  o.val_fraction = 0;
  EXPECT_EQ(write_synthetic_reports(o).val_reports, 0);
}

}  // namespace
}  // namespace medtrain::data::text
