// Synthetic dictation (data/audio/synthetic_dictation.h): the plan's split rules
// and text limits over the default size, and espeak-ng run as a child process
// (data/audio/speech_synthesis.h), its failures included. The CLI, the WAVs and
// the manifest end to end: tests/integration/demo_dictation_test.py.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <string>

#include "data/audio/audio_decode.h"
#include "data/audio/speech_synthesis.h"
#include "data/audio/synthetic_dictation.h"
#include "data/data_error.h"

namespace fs = std::filesystem;
using medtrain::data::DataError;
using namespace medtrain::data::audio;

namespace {

bool have_espeak() { return ::access("/usr/bin/espeak-ng", X_OK) == 0; }

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("medtrain_dictation_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SyntheticDictation, PlanSplitsSpeakersAndPatients) {
  DictationOptions o;
  o.out_dir = "unused";
  const auto plan = plan_dictation(o);  // the default 160
  ASSERT_EQ(plan.size(), 160u);
  std::set<std::string> speakers[2], patients[2];
  int64_t val = 0;
  for (const auto& u : plan) {
    speakers[u.val].insert(u.speaker);
    patients[u.val].insert(u.patient);
    val += u.val;
    std::istringstream in(u.text);
    int words = 0;
    for (std::string w; in >> w;) ++words;
    EXPECT_GE(words, 4) << u.text;
    EXPECT_LE(words, 25) << u.text;
    EXPECT_EQ(u.text.find_first_of("{}"), std::string::npos) << u.text;  // every slot filled
  }
  EXPECT_EQ(val, 30);
  EXPECT_EQ(speakers[1].size(), 2u);
  EXPECT_EQ(speakers[0].size(), dictation_speakers().size() - 2);
  EXPECT_EQ(patients[1].size(), 10u);  // a quarter of 40, each dealt an utterance
  EXPECT_EQ(patients[0].size(), 30u);
  for (const auto& s : speakers[1]) EXPECT_EQ(speakers[0].count(s), 0u) << s;
  for (const auto& p : patients[1]) EXPECT_EQ(patients[0].count(p), 0u) << p;
  EXPECT_EQ(plan[0].id, "u00001");
}

TEST(SyntheticDictation, PlanIsAFunctionOfTheSeed) {
  DictationOptions a, b;
  a.out_dir = b.out_dir = "unused";
  b.seed = 1;
  const auto p1 = plan_dictation(a), p2 = plan_dictation(a), p3 = plan_dictation(b);
  int differ = 0;
  for (size_t k = 0; k < p1.size(); ++k) {
    EXPECT_EQ(p1[k].text, p2[k].text);
    EXPECT_EQ(p1[k].speaker, p2[k].speaker);
    differ += p1[k].text != p3[k].text;
  }
  EXPECT_GT(differ, 100);
}

TEST(SyntheticDictation, SpeakersMixVoicesAndSpeeds) {
  std::set<std::string> voices;
  for (const auto& s : dictation_speakers()) {
    voices.insert(s.voice.voice);
    EXPECT_GE(s.voice.words_per_minute, 130);
    EXPECT_LE(s.voice.words_per_minute, 185);
  }
  EXPECT_GE(dictation_speakers().size(), 8u);
  EXPECT_EQ(voices.size(), dictation_speakers().size());
}

TEST(SyntheticDictation, BadOptions) {
  DictationOptions o;
  o.out_dir = "unused";
  o.count = 0;
  EXPECT_NE(error_of([&] { plan_dictation(o); }).find("count must be >= 1"), std::string::npos);
  o.count = 1;  // too few for a val split: one training utterance
  const auto plan = plan_dictation(o);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_FALSE(plan[0].val);
}

TEST(SpeechSynthesis, RendersSpeechAndSpeaksShellCharacters) {
  if (!have_espeak()) GTEST_SKIP() << "espeak-ng not installed (scripts/setup.sh installs it)";
  const fs::path d = temp_dir("render");
  const fs::path marker = d / "marker";
  const std::string wav = (d / "a.wav").string();
  // Passed as one argument: no shell runs the command substitution, and the
  // leading "-" is text, not an option.
  synthesize_speech("-5 millimeter nodule; $(touch " + marker.string() + ")", {"en-gb+f2", 160, 60}, wav);
  EXPECT_FALSE(fs::exists(marker));
  const DecodedAudio a = decode_audio_file(wav);
  EXPECT_EQ(a.sample_rate, 22050);
  EXPECT_GT(a.samples.size(), 22050u);  // > 1 s
  EXPECT_GT(a.peak, 0.05f);
  fs::remove_all(d);
}

TEST(SpeechSynthesis, Errors) {
  const fs::path d = temp_dir("errors");
  const std::string wav = (d / "a.wav").string();
  EXPECT_NE(error_of([&] { synthesize_speech("hello there", {}, wav, "/nonexistent/espeak-ng"); })
                .find("not found: install the Debian package espeak-ng"),
            std::string::npos);
  EXPECT_NE(error_of([&] { synthesize_speech("hello there", {}, wav, "false"); }).find("false failed (exit 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { synthesize_speech("  ", {}, wav); }).find("empty text"), std::string::npos);
  EXPECT_NE(error_of([&] { synthesize_speech("hi", {"en-us", 20, 50}, wav); }).find("80..450"), std::string::npos);
  EXPECT_NE(error_of([&] { synthesize_speech("hi", {"-x", 150, 50}, wav); }).find("voice must be"), std::string::npos);
  if (have_espeak()) {
    EXPECT_NE(error_of([&] { synthesize_speech("hello", {"nosuchvoice", 150, 50}, wav); })
                  .find("voice does not exist"),
              std::string::npos);
    // espeak-ng exits 0 when it cannot create the file; the missing WAV is noticed.
    EXPECT_NE(error_of([&] { synthesize_speech("hello", {}, (d / "no/dir/a.wav").string()); }).find("wrote no audio"),
              std::string::npos);
  }
  fs::remove_all(d);
}
