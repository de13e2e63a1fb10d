#include "data/audio/synthetic_dictation.h"

#include <nlohmann/json.hpp>
#include <sndfile.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/rng.h"
#include "data/text/synthetic_phrases.h"

namespace fs = std::filesystem;

namespace medtrain::data::audio {
namespace {

using Rng = std::mt19937_64;
using Words = std::vector<const char*>;
using text::between;
using text::capitalize;
using text::fill_placeholders;
using text::finding_word;
using text::pick;

constexpr int kMinWords = 4, kMaxWords = 25;
constexpr double kValShare = 3.0 / 16.0;      // Note [Speaker and patient split]
constexpr double kHeldOutPatients = 0.25;

// Fills {side} {size} {sev} {lobe} {mm} {cm}; a capitalized key ({Side})
// capitalizes the value. The values are synthetic_reports' (data/text), with
// measurements spoken: digits, units as words.
std::string fill(Rng& rng, std::string s) {
  return fill_placeholders(std::move(s), [&rng](const std::string& key) -> std::string {
    if (key == "mm") return std::to_string(between(rng, 3, 18));
    if (key == "cm") return std::to_string(between(rng, 1, 4)) + "." + std::to_string(between(rng, 1, 9));
    return finding_word(rng, key);
  });
}

// What a radiologist says; terms Whisper tiny.en mishears on purpose.
const Words kFindingSentences = {
    "There is a {size} {side} pleural effusion.",
    "{Size} {side} pleural effusion with adjacent atelectasis.",
    "Blunting of the {side} costophrenic angle, consistent with a small pleural effusion.",
    "Bilateral pleural effusions, larger on the {side}.",
    "There is a {size} {side} apical pneumothorax.",
    "{Side} pneumothorax measuring {mm} millimeters at the apex.",
    "{Sev} cardiomegaly with pulmonary vascular congestion.",
    "The cardiac silhouette is enlarged, consistent with cardiomegaly.",
    "Focal consolidation in the {lobe}, concerning for pneumonia.",
    "Patchy airspace consolidation in the {lobe}.",
    "Linear atelectasis at the {side} lung base.",
    "Bibasilar subsegmental atelectasis.",
    "Plate-like atelectasis in the {lobe}.",
    "There is a {mm} millimeter nodule in the {lobe}.",
    "A {cm} centimeter spiculated mass in the {lobe}.",
    "{Side} hilar lymphadenopathy measuring {cm} centimeters.",
    "Prominent {side} hilar contour, likely vascular.",
    "Calcified granuloma in the {lobe}.",
    "Hyperinflated lungs with emphysematous changes.",
    "Interstitial opacities at both lung bases.",
    "The endotracheal tube terminates {cm} centimeters above the carina.",
    "Right internal jugular central venous catheter with the tip in the superior vena cava.",
    "Unchanged {mm} millimeter nodule in the {lobe}.",
    "Interval improvement of the {lobe} consolidation.",
    "Compared with the prior study, the {side} pleural effusion has decreased.",
};

const Words kNormalSentences = {
    "No acute cardiopulmonary process.",
    "No pleural effusion or pneumothorax.",
    "The costophrenic angles are sharp.",
    "Heart size is normal.",
    "The lungs are clear without focal consolidation.",
    "Hilar and mediastinal contours are within normal limits.",
    "No focal consolidation, pleural effusion, or pneumothorax.",
    "No evidence of cardiomegaly or pulmonary edema.",
    "The {side} costophrenic angle is clear.",
    "No pneumothorax after chest tube removal.",
};

int64_t word_count(const std::string& s) {
  std::istringstream in(s);
  int64_t n = 0;
  for (std::string w; in >> w;) ++n;
  return n;
}

// One or two sentences of kMinWords..kMaxWords words (drawn again until they fit).
std::string utterance_text(Rng& rng) {
  for (;;) {
    const auto sentence = [&rng] {
      return fill(rng, uniform01(rng) < 0.7 ? pick(rng, kFindingSentences) : pick(rng, kNormalSentences));
    };
    std::string text = sentence();
    if (uniform01(rng) < 0.45) text += " " + sentence();
    const int64_t n = word_count(text);
    if (n >= kMinWords && n <= kMaxWords) return text;
  }
}

std::vector<int64_t> shuffled(int64_t n, Rng& rng) {
  std::vector<int64_t> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_below(rng, i)]);
  return v;
}

std::string numbered(const char* prefix, int64_t k, int width) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%0*ld", prefix, width, static_cast<long>(k));
  return buf;
}

// Seconds of audio in a WAV (libsndfile reads the header only).
double wav_seconds(const std::string& path) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (f == nullptr) throw DataError(io::display_path(path) + ": cannot read the rendered WAV: " + sf_strerror(nullptr));
  sf_close(f);
  return info.samplerate > 0 ? static_cast<double>(info.frames) / info.samplerate : 0.0;
}

// Renders every utterance, `jobs` espeak-ng processes at a time; the first
// error stops the others and is rethrown. Returns seconds per utterance.
std::vector<double> render_all(const std::vector<DictationUtterance>& plan, const fs::path& audio_dir, int jobs) {
  std::map<std::string, SpeechVoice> voices;
  for (const DictationSpeaker& s : dictation_speakers()) voices[s.id] = s.voice;
  std::vector<double> seconds(plan.size(), 0.0);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  const auto worker = [&] {
    for (size_t k = next++; k < plan.size() && !failed; k = next++) {
      const fs::path wav = audio_dir / (plan[k].id + ".wav"), tmp = audio_dir / (plan[k].id + ".wav.tmp");
      try {
        synthesize_speech(plan[k].text, voices.at(plan[k].speaker), tmp.string());
        fs::rename(tmp, wav);  // a WAV under its final name is complete
        seconds[k] = wav_seconds(wav.string());
      } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < std::min<int64_t>(jobs, static_cast<int64_t>(plan.size())); ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  return seconds;
}

void check_options(const DictationOptions& o) {
  const auto bad = [](const std::string& what) { throw DataError("synthetic dictation: " + what); };
  if (o.out_dir.empty()) bad("no output folder given");
  if (o.count < 1) bad("count must be >= 1 (got " + std::to_string(o.count) + ")");
  if (o.count > 1000000) bad("count must be <= 1000000 (got " + std::to_string(o.count) + ")");
  if (o.jobs < 1) bad("jobs must be >= 1 (got " + std::to_string(o.jobs) + ")");
}

}  // namespace

const std::vector<DictationSpeaker>& dictation_speakers() {
  static const std::vector<DictationSpeaker> speakers = {
      {"spk01", {"en-us+m1", 150, 45}}, {"spk02", {"en-us+f2", 165, 55}}, {"spk03", {"en-gb+m3", 140, 40}},
      {"spk04", {"en-gb+f1", 175, 60}}, {"spk05", {"en-us+m5", 185, 50}}, {"spk06", {"en-gb+m7", 130, 35}},
      {"spk07", {"en-us+f4", 160, 65}}, {"spk08", {"en-gb+m2", 170, 48}}, {"spk09", {"en-us+m6", 145, 42}},
      {"spk10", {"en-gb+f3", 155, 58}},
  };
  return speakers;
}

std::vector<DictationUtterance> plan_dictation(const DictationOptions& o) {
  check_options(o);
  const auto& speakers = dictation_speakers();
  const int64_t n_speakers = static_cast<int64_t>(speakers.size());
  const int64_t n_patients = std::max<int64_t>(4, o.count / 4);
  const int64_t n_val_patients = std::max<int64_t>(1, std::llround(n_patients * kHeldOutPatients));
  const int64_t n_val = o.count < 2 ? 0 : std::clamp<int64_t>(std::llround(o.count * kValShare), 1, o.count - 1);

  // Sides: [0] train, [1] val. Speaker and patient orders are seeded shuffles.
  Rng split_rng(mix_seed(o.seed, 1));
  const std::vector<int64_t> speaker_order = shuffled(n_speakers, split_rng);
  const std::vector<int64_t> patient_order = shuffled(n_patients, split_rng);
  const std::vector<int64_t> utterance_order = shuffled(o.count, split_rng);
  std::vector<int64_t> side_speakers[2], side_patients[2];
  for (int64_t i = 0; i < n_speakers; ++i) side_speakers[i < kHeldOutSpeakers].push_back(speaker_order[i]);
  for (int64_t i = 0; i < n_patients; ++i) side_patients[i < n_val_patients].push_back(patient_order[i]);
  std::vector<bool> val(o.count, false);
  for (int64_t i = 0; i < n_val; ++i) val[utterance_order[i]] = true;

  std::vector<DictationUtterance> plan;
  int64_t dealt[2] = {0, 0};  // utterances given a patient so far, per side
  for (int64_t k = 0; k < o.count; ++k) {
    Rng rng(mix_seed(o.seed, 1000 + static_cast<uint64_t>(k)));
    const int side = val[k] ? 1 : 0;
    DictationUtterance u;
    u.id = numbered("u", k + 1, 5);
    u.val = val[k];
    u.speaker = speakers[side_speakers[side][uniform_below(rng, side_speakers[side].size())]].id;
    const auto& pts = side_patients[side];
    u.patient = numbered("P", pts[dealt[side]++ % static_cast<int64_t>(pts.size())] + 1, 4);
    u.text = utterance_text(rng);
    plan.push_back(std::move(u));
  }
  return plan;
}

DictationSummary write_synthetic_dictation(const DictationOptions& o) {
  const std::vector<DictationUtterance> plan = plan_dictation(o);
  const fs::path audio_dir = fs::path(o.out_dir) / "audio";
  std::error_code ec;
  fs::create_directories(audio_dir, ec);
  if (ec) throw DataError(io::display_path(audio_dir.string()) + ": cannot create folder: " + ec.message());
  const std::vector<double> seconds = render_all(plan, audio_dir, o.jobs);

  DictationSummary sum;
  sum.path = (fs::path(o.out_dir) / "dictation.jsonl").string();
  std::set<std::string> speakers[3], patients[3];  // all, train, val
  std::ostringstream out;
  for (size_t k = 0; k < plan.size(); ++k) {
    const DictationUtterance& u = plan[k];
    nlohmann::ordered_json row;
    row["audio"] = "audio/" + u.id + ".wav";
    row["text"] = u.text;
    row["speaker"] = u.speaker;
    row["patient"] = u.patient;
    row["split"] = u.val ? "val" : "train";
    out << row.dump() << '\n';
    for (DictationSplit* split : {&sum.all, u.val ? &sum.val : &sum.train}) {
      split->utterances += 1;
      split->seconds += seconds[k];
    }
    for (int set : {0, u.val ? 2 : 1}) {
      speakers[set].insert(u.speaker);
      patients[set].insert(u.patient);
    }
  }
  DictationSplit* by_set[3] = {&sum.all, &sum.train, &sum.val};
  for (int s = 0; s < 3; ++s) {
    by_set[s]->speakers = static_cast<int64_t>(speakers[s].size());
    by_set[s]->patients = static_cast<int64_t>(patients[s].size());
  }

  const std::string tmp = sum.path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << out.str();
    if (!f.flush()) throw DataError(io::display_path(tmp) + ": cannot write the dictation manifest");
  }
  fs::rename(tmp, sum.path, ec);  // readers never see a half-written manifest
  if (ec) throw DataError(io::display_path(sum.path) + ": cannot write the dictation manifest: " + ec.message());
  return sum;
}

}  // namespace medtrain::data::audio
