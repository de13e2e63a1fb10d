// Text packs (data/text/text_pack.h): samples read back from the shards of
// `pack_text_dataset` equal those open_text_dataset builds from the JSONL file
// (ids, targets, patients, order, statistics) for every target and split; a
// pack whose tokenizer, labels, max_length, target or manifest differ from the
// options is refused naming both values; truncated, corrupt, missing and
// unfinished shards are refused naming the file; a bad manifest line stops
// the pack with the very error training from the JSONL file gives.
#include "data/text/text_pack.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/shard/digest.h"
#include "data/shard/shard_metadata.h"
#include "data/text/text_record.h"
#include "tests/common/temp_dir.h"
#include "tests/data/text/tiny_tokenizer.h"

namespace medtrain::data::text {
namespace {

namespace fs = std::filesystem;
using medtrain::testing::TempDir;

const char* kTexts[] = {"the patient has pneumonia.", "no pneumonia.", "the patient, the patient has x xx.",
                        "cafe 日 pneumonia pneumonia pneumonia pneumonia the patient has no pneumonia."};

// `n` rows over 4 patients per split pattern: patient P<i % 7>, split by patient.
std::string manifest_text(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    const std::string text = kTexts[i % 4];
    const size_t p = i % 7;
    nlohmann::json row{{"id", "R" + std::to_string(i)}, {"patient", "P" + std::to_string(p)},
                       {"split", p == 3 ? "val" : p == 5 ? "test" : "train"}, {"text", text},
                       {"labels", i % 3 == 0 ? std::vector<std::string>{"pneumonia"} : std::vector<std::string>{"normal"}}};
    // "patient" is the span of the second word when present.
    const size_t at = text.find("patient");
    row["spans"] = nlohmann::json::array();
    if (at != std::string::npos) row["spans"].push_back({{"start", at}, {"end", at + 7}, {"label", "WHO"}});
    out += row.dump() + "\n";
    if (i % 10 == 4) out += "\n";  // blank lines are skipped by both paths
  }
  return out;
}

std::vector<std::string> names_for(TextTarget t) {
  return t == TextTarget::kTags ? std::vector<std::string>{"WHO"} : std::vector<std::string>{"normal", "pneumonia"};
}

class TextPackFixture : public ::testing::Test {
 protected:
  TextDatasetOptions options(TextTarget target, size_t rows = 120) {
    dir_.write("tok/tokenizer.json", testing::tiny_tokenizer_json());
    TextDatasetOptions o;
    o.manifest = dir_.write("reports.jsonl", manifest_text(rows)).string();
    o.target = target;
    o.label_names = names_for(target);
    o.tokenizer_dir = dir_.str("tok");
    o.max_length = 12;  // the long text is cut
    return o;
  }
  std::string pack(const TextDatasetOptions& o, uint64_t shard_bytes = 4096) {
    TextPackOptions p;
    p.dataset = o;
    p.out = dir_.str("pack");
    p.shard_bytes = shard_bytes;
    pack_text_dataset(p);
    return p.out;
  }
  void expect_refused(const std::string& dir, const TextDatasetOptions& o, const std::vector<std::string>& parts) {
    try {
      open_text_shards(dir, o);
      ADD_FAILURE() << "no DataError";
    } catch (const DataError& e) {
      const std::string msg = e.what();
      for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
  TempDir dir_{"medtrain_text_pack"};
};

class TextPackTest : public TextPackFixture, public ::testing::WithParamInterface<TextTarget> {};

void expect_same_samples(const TextDataset& jsonl, const TextDataset& packed) {
  ASSERT_EQ(jsonl.size(), packed.size());
  ASSERT_GT(jsonl.size(), 0u);
  EXPECT_EQ(jsonl.pad_id(), packed.pad_id());
  EXPECT_EQ(jsonl.ragged().ragged_target, packed.ragged().ragged_target);
  EXPECT_EQ(jsonl.ragged().input_pad, packed.ragged().input_pad);
  EXPECT_EQ(jsonl.stats().truncated, packed.stats().truncated);
  EXPECT_EQ(jsonl.stats().spans_cut, packed.stats().spans_cut);
  EXPECT_EQ(jsonl.stats().longest, packed.stats().longest);
  for (size_t i = 0; i < jsonl.size(); ++i) {
    EXPECT_EQ(jsonl.examples()[i], packed.examples()[i]) << i;  // id, patient, split, line, ids, target
    EXPECT_EQ(jsonl.describe(i), packed.describe(i));
    EXPECT_EQ(jsonl.length(i), packed.length(i));
    EXPECT_EQ(jsonl.label(i), packed.label(i));
    const Sample a = jsonl.get(i, 7), b = packed.get(i, 7);
    EXPECT_EQ(a.image.scalar_type(), b.image.scalar_type());
    EXPECT_EQ(a.target.scalar_type(), b.target.scalar_type());
    EXPECT_TRUE(torch::equal(a.image, b.image)) << i;
    EXPECT_TRUE(torch::equal(a.target, b.target)) << i;
  }
}

TEST_P(TextPackTest, SamplesFromShardsEqualSamplesFromJsonl) {
  TextDatasetOptions o = options(GetParam());
  const std::string dir = pack(o);
  for (const std::string split : {"train", "val", "test", ""}) {
    SCOPED_TRACE("split '" + split + "'");
    o.split = split;
    const auto jsonl = open_text_dataset(o);
    const auto packed = open_text_shards(dir, o);
    expect_same_samples(*jsonl, *packed);
  }
  // Tokenising did something worth checking: some texts were cut, patients kept.
  o.split = "train";
  const auto train = open_text_shards(dir, o);
  EXPECT_GT(train->stats().truncated, 0u);
  EXPECT_EQ(train->examples().front().patient, "P0");
  EXPECT_EQ(train->examples().front().ids.front(), 2);  // [CLS]
}

INSTANTIATE_TEST_SUITE_P(Targets, TextPackTest,
                         ::testing::Values(TextTarget::kClass, TextTarget::kMultiLabel, TextTarget::kTags));

class TextPackErrorsTest : public TextPackFixture {};

TEST_F(TextPackErrorsTest, MetadataRecordsWhatTheTokensDependOn) {
  const TextDatasetOptions o = options(TextTarget::kMultiLabel);
  const std::string dir = pack(o);
  const shard::ShardMetadata meta = shard::read_metadata(dir);
  ASSERT_TRUE(meta.text.has_value());
  EXPECT_TRUE(meta.complete);
  EXPECT_EQ(meta.settings.target, "text");
  EXPECT_EQ(meta.text->target, "multilabel");
  EXPECT_EQ(meta.text->tokenizer_file, "tokenizer.json");
  EXPECT_EQ(meta.text->tokenizer_sha256, shard::sha256_file_hex(dir_.str("tok/tokenizer.json")));
  EXPECT_EQ(meta.text->max_length, 12);
  EXPECT_EQ(meta.label_names, o.label_names);
  EXPECT_EQ(meta.manifest_sha256, shard::sha256_file_hex(o.manifest));
  // Patient-level splits as in the manifest; several shards per split at 4 KiB.
  EXPECT_EQ(meta.patient_split.at("P3"), "val");
  EXPECT_EQ(meta.patient_split.at("P0"), "train");
  size_t train_shards = 0;
  for (const auto& s : meta.shards) train_shards += s.split == "train";
  EXPECT_GT(train_shards, 1u);
  EXPECT_EQ(meta.records_per_split.at("train") + meta.records_per_split.at("val") + meta.records_per_split.at("test"),
            120u);
}

TEST_F(TextPackErrorsTest, APackMadeWithOtherSettingsIsRefusedNamingBothValues) {
  const TextDatasetOptions o = options(TextTarget::kMultiLabel);
  const std::string dir = pack(o);
  TextDatasetOptions longer = o;
  longer.max_length = 16;
  expect_refused(dir, longer, {"data.max_length 12", "the config has 16", "medtrain pack -c"});
  TextDatasetOptions relabelled = o;
  relabelled.label_names = {"normal", "pneumonia", "effusion"};
  expect_refused(dir, relabelled, {"[normal, pneumonia]", "[normal, pneumonia, effusion]"});
  TextDatasetOptions tags = o;
  tags.target = TextTarget::kClass;
  expect_refused(dir, tags, {"target multilabel", "needs class"});
  // Another tokenizer: the same vocabulary, lower-casing off.
  std::string other = testing::tiny_tokenizer_json();
  other.replace(other.find("\"lowercase\":true"), 16, "\"lowercase\":false");
  dir_.write("tok2/tokenizer.json", other);
  TextDatasetOptions retok = o;
  retok.tokenizer_dir = dir_.str("tok2");
  expect_refused(dir, retok, {shard::sha256_file_hex(dir_.str("tok/tokenizer.json")),
                              shard::sha256_file_hex(dir_.str("tok2/tokenizer.json"))});
  // The manifest changed since the pack.
  TextDatasetOptions edited = o;
  edited.manifest = dir_.write("reports.jsonl", manifest_text(119)).string();
  expect_refused(dir, edited, {"manifest with SHA-256", "reports.jsonl has SHA-256"});
  // Without data.manifest the pack stands alone.
  edited.manifest.clear();
  EXPECT_EQ(open_text_shards(dir, edited)->size(), 120u);
}

TEST_F(TextPackErrorsTest, AnImagePackIsNotText) {
  const TextDatasetOptions o = options(TextTarget::kClass);
  const std::string dir = pack(o);
  shard::ShardMetadata meta = shard::read_metadata(dir);
  meta.settings.target = "class";
  meta.text.reset();
  shard::write_metadata(dir, meta);
  expect_refused(dir, o, {"holds images", "medtrain pack -c"});
}

TEST_F(TextPackErrorsTest, BrokenShardsAreRefusedNamingTheFile) {
  TextDatasetOptions o = options(TextTarget::kTags);
  o.split = "train";
  const std::string dir = pack(o);
  const fs::path shard = fs::path(dir) / "train-00001.shard";
  ASSERT_TRUE(fs::exists(shard));
  const auto size = fs::file_size(shard);
  std::string bytes(size, '\0');
  std::ifstream(shard, std::ios::binary).read(bytes.data(), static_cast<std::streamsize>(size));
  // Truncated (a copy cut short).
  fs::resize_file(shard, size - 40);
  expect_refused(dir, o, {"train-00001.shard"});
  // A flipped byte inside the first record.
  std::string flipped = bytes;
  flipped[8 + 20] = static_cast<char>(flipped[8 + 20] ^ 0x10);
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << flipped;
  expect_refused(dir, o, {"train-00001.shard", "record 0", "checksum"});
  // Missing.
  fs::remove(shard);
  expect_refused(dir, o, {"train-00001.shard"});
  // An unfinished pack.
  std::ofstream(shard, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_NO_THROW(open_text_shards(dir, o));
  shard::ShardMetadata meta = shard::read_metadata(dir);
  meta.complete = false;
  shard::write_metadata(dir, meta);
  expect_refused(dir, o, {"incomplete", "re-run"});
}

TEST_F(TextPackErrorsTest, ABadManifestLineStopsThePackAsItStopsTraining) {
  const TextDatasetOptions good = options(TextTarget::kClass, 20);
  const std::string lines = manifest_text(20);
  struct Case {
    std::string name, manifest, needle;
  };
  std::string two_labels = lines;  // a "test" row (never trained on) with two classes
  const size_t at = two_labels.find("\"labels\":[\"normal\"]", two_labels.find("\"R5\""));
  two_labels.replace(at, 19, "\"labels\":[\"normal\",\"pneumonia\"]");
  const std::vector<Case> cases = {
      {"not JSON", lines + "{\"id\": \"X\", \"text\": \n", "not valid JSON"},
      {"unknown label", lines + R"({"id":"X","text":"no.","labels":["fracture"]})" "\n", "fracture"},
      {"patient in two splits", lines + R"({"id":"X","patient":"P0","split":"val","text":"no.","labels":["normal"]})" "\n",
       "patient \"P0\""},
      {"duplicate id", lines + R"({"id":"R1","text":"no.","labels":["normal"]})" "\n", "duplicate id"},
      {"two classes in a test row", two_labels, "exactly one name"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TextDatasetOptions o = good;
    o.manifest = dir_.write("bad.jsonl", c.manifest).string();
    o.split = "train";
    std::string from_jsonl, from_pack;
    try {
      open_text_dataset(o);
    } catch (const DataError& e) {
      from_jsonl = e.what();
    }
    TextPackOptions p;
    p.dataset = o;
    p.out = dir_.str("bad_pack");
    try {
      pack_text_dataset(p);
    } catch (const DataError& e) {
      from_pack = e.what();
    }
    EXPECT_NE(from_jsonl.find(c.needle), std::string::npos) << from_jsonl;
    EXPECT_NE(from_jsonl.find("bad.jsonl:"), std::string::npos) << from_jsonl;
    EXPECT_EQ(from_pack, from_jsonl);
    EXPECT_FALSE(fs::exists(p.out)) << "nothing is written for a bad manifest";
  }
}

TEST_F(TextPackErrorsTest, ASplitThatCannotNameAShardFileIsRefused) {
  TextDatasetOptions o = options(TextTarget::kMultiLabel, 4);
  o.manifest = dir_.write("escape.jsonl", manifest_text(4) +
                                              R"({"id":"X","split":"../../x","text":"no.","labels":["normal"]})" "\n")
                   .string();
  TextPackOptions p;
  p.dataset = o;
  p.out = dir_.str("escape_pack");
  try {
    pack_text_dataset(p);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("escape.jsonl:5: split \"../../x\" cannot name a shard file"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(p.out));
}

TEST(TextRecordTest, RoundTripsAndRefusesMalformedBytes) {
  TextExample e;
  e.id = "R1";
  e.patient = "P\xc3\xa9";
  e.split = "train";
  e.line = 1ull << 40;
  e.ids = {2, 7, 30000, 3};
  e.target = {-100, 0, 1, -100};
  e.truncated = true;
  e.spans_cut = 2;
  e.invalid_utf8 = 1;
  const auto bytes = encode_text_record(e);
  EXPECT_EQ(bytes.size(), kTextRecordHeaderBytes + 2 + 3 + 5 + 16 + 16);
  EXPECT_EQ(decode_text_record(bytes.data(), bytes.size(), "r"), e);
  auto refused = [](std::vector<uint8_t> b, const std::string& needle) {
    try {
      decode_text_record(b.data(), b.size(), "shard x: record 3");
      ADD_FAILURE() << "no DataError for " << needle;
    } catch (const DataError& err) {
      EXPECT_NE(std::string(err.what()).find(needle), std::string::npos) << err.what();
      EXPECT_NE(std::string(err.what()).find("shard x: record 3"), std::string::npos) << err.what();
    }
  };
  refused(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 20), "shorter than its header");
  refused(std::vector<uint8_t>(bytes.begin(), bytes.end() - 1), "header says");
  auto foreign = bytes;
  foreign[0] = 'X';
  refused(foreign, "not a text record");
  auto huge = bytes;
  huge[23] = 0x7f;  // n_ids far past the cap
  refused(huge, "out of range");
}

}  // namespace
}  // namespace medtrain::data::text
