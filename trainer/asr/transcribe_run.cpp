#include "trainer/asr/transcribe_run.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/audio/audio_decode.h"
#include "data/audio/audio_signal_checks.h"
#include "data/audio/load_audio.h"
#include "data/audio/log_mel.h"
#include "data/audio/resample.h"
#include "data/data_error.h"
#include "data/io/user_file.h"
#include "trainer/asr/audio_inputs.h"
#include "trainer/asr/whisper_folder.h"
#include "trainer/asr/whisper_language.h"
#include "trainer/asr/window_decoder.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/dist/world.h"
#include "trainer/engine/device_choice.h"
#include "trainer/user_error.h"

namespace medtrain::asr {
namespace {

namespace audio = data::audio;
using Clock = std::chrono::steady_clock;

// An hour of 768 kHz 64-channel float WAV is far more; the decoder's
// max_seconds is the real bound. This only keeps a huge file from being read
// when it cannot be audio we would decode.
constexpr uint64_t kMaxAudioFileBytes = uint64_t{8} << 30;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Utterance {
  std::vector<float> samples;  // 16 kHz mono
  bool silent = false;
  std::vector<std::string> warnings;
};

// The guarded check first: opening a FIFO would block before the decoder's own
// regular-file check runs.
Utterance read_utterance(const AudioInput& input) {
  data::io::check_regular_file(input.path.string(), "audio file", kMaxAudioFileBytes);
  audio::DecodedAudio d = audio::decode_audio_file(input.path.string());
  Utterance u;
  u.silent = d.peak < audio::kSilentPeak;
  u.warnings = std::move(d.warnings);
  u.samples = audio::resample_mono(d.samples, d.sample_rate, audio::kWhisperSampleRate, input.path.string());
  if (u.samples.empty()) {
    throw data::DataError(fmt::format("{}: shorter than one sample at 16 kHz", input.path.string()));
  }
  return u;
}

// One input being transcribed: its windows come back from the batches in order.
struct OpenRow {
  size_t index = 0;  // into the inputs (and the output lines)
  double duration_s = 0, time_s = 0;
  int64_t windows_left = 0;
  std::vector<int64_t> tokens;
  double sum_logprob = 0;
  int64_t scored = 0;
};

std::string row_line(const std::string& id, const std::string& text, const std::vector<int64_t>& tokens,
                     std::optional<double> avg_logprob, double duration_s, double time_s) {
  nlohmann::json row{{"id", id}, {"text", text}, {"tokens", tokens}, {"avg_logprob", nullptr},
                     {"duration_s", duration_s}, {"time_s", time_s}};
  if (avg_logprob) row["avg_logprob"] = *avg_logprob;
  return row.dump() + "\n";
}

std::string trimmed(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\n") - first + 1);
}

class Batcher {
 public:
  Batcher(WhisperFolder& w, std::vector<int64_t> prompt, const std::vector<AudioInput>& inputs,
          const TranscribeOptions& o, std::vector<std::string>& lines)
      : w_(w), prompt_(std::move(prompt)), inputs_(inputs), batch_(o.batch), beam_size_(o.beam_size), lines_(lines) {}

  // windows [W, n_mels, 3000]: decoded once `batch` windows wait (or at finish()).
  void add(OpenRow row, const torch::Tensor& windows) {
    row.windows_left = windows.size(0);
    rows_.push_back(std::move(row));
    for (int64_t k = 0; k < windows.size(0); ++k) pending_.push_back({&rows_.back(), windows[k]});
    while (static_cast<int64_t>(pending_.size()) >= batch_) run(batch_);
  }
  void finish() {
    while (!pending_.empty()) run(std::min<int64_t>(batch_, static_cast<int64_t>(pending_.size())));
  }
  size_t windows() const { return windows_; }

 private:
  struct Window {
    OpenRow* row;
    torch::Tensor features;
  };

  void run(int64_t count) {
    const auto start = Clock::now();
    std::vector<torch::Tensor> features;
    for (int64_t k = 0; k < count; ++k) features.push_back(pending_[static_cast<size_t>(k)].features);
    const auto results = transcribe_windows(w_.model, torch::stack(features), prompt_, beam_size_);
    const double share = seconds_since(start) / static_cast<double>(count);
    for (int64_t k = 0; k < count; ++k) {
      OpenRow& row = *pending_.front().row;
      pending_.pop_front();
      const WindowTranscript& t = results[static_cast<size_t>(k)];
      row.tokens.insert(row.tokens.end(), t.tokens.begin(), t.tokens.end());
      row.sum_logprob += t.sum_logprob;
      row.scored += t.scored;
      row.time_s += share;
      if (--row.windows_left == 0) close(row);
    }
    windows_ += static_cast<size_t>(count);
    while (!rows_.empty() && rows_.front().windows_left == 0) rows_.pop_front();
  }

  void close(const OpenRow& row) {
    const std::vector<int32_t> ids(row.tokens.begin(), row.tokens.end());
    const std::optional<double> avg =
        row.scored > 0 ? std::optional<double>(row.sum_logprob / static_cast<double>(row.scored)) : std::nullopt;
    lines_[row.index] = row_line(inputs_[row.index].id, trimmed(w_.tokenizer.decode(ids, true)), row.tokens, avg,
                                 row.duration_s, row.time_s);
  }

  WhisperFolder& w_;
  std::vector<int64_t> prompt_;
  const std::vector<AudioInput>& inputs_;
  int64_t batch_, beam_size_;
  std::vector<std::string>& lines_;
  std::deque<OpenRow> rows_;  // a deque: pending windows point into it, and it only grows at the back
  std::deque<Window> pending_;
  size_t windows_ = 0;
};

}  // namespace

TranscribeSummary run_transcription(const TranscribeOptions& o) {
  if (o.out.extension() != ".jsonl") {
    throw UserError("--out " + data::io::display_path(o.out.string()) + ": transcripts are written as .jsonl");
  }
  if (o.batch < 1) throw UserError("--batch must be at least 1");
  if (o.beam_size < 1) throw UserError("--beam-size must be at least 1");
  // The inputs first: a bad --in is reported before seconds of model loading.
  const std::vector<AudioInput> inputs = collect_audio_inputs(o.in);
  const auto choice = engine::choose_device(o.device, dist::World{});
  WhisperFolder w = load_whisper_folder(o.model_dir);
  std::vector<int64_t> prompt = whisper_language_prompt(w, o.model_dir, o.language, LanguageFrom::kTranscribeFlag);
  w.model->to(choice.device);
  TranscribeSummary summary;
  summary.device = choice.reason;
  summary.layout = w.layout;
  summary.notes = w.notes;
  summary.inputs = inputs.size();
  const audio::WhisperLogMel mel(choice.device, w.model->config().num_mel_bins);
  std::vector<std::string> lines(inputs.size());
  Batcher batcher(w, std::move(prompt), inputs, o, lines);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto start = Clock::now();
    Utterance u;
    try {
      u = read_utterance(inputs[i]);
    } catch (const data::DataError& e) {
      if (!o.skip_bad_audio) throw;
      summary.skipped.push_back(e.what());
      continue;
    }
    for (auto& warning : u.warnings) summary.warnings.push_back(std::move(warning));
    const double duration = static_cast<double>(u.samples.size()) / audio::kWhisperSampleRate;
    if (u.silent) {
      ++summary.silent;
      lines[i] = row_line(inputs[i].id, "", {}, std::nullopt, duration, seconds_since(start));
      continue;
    }
    const auto wave = torch::from_blob(u.samples.data(), {static_cast<int64_t>(u.samples.size())}, torch::kFloat);
    const torch::Tensor windows = mel.windows(wave);
    ++summary.transcribed;
    batcher.add({i, duration, seconds_since(start)}, windows);
  }
  batcher.finish();
  summary.windows = batcher.windows();
  std::string text;
  for (const auto& line : lines) text += line;
  if (text.empty()) throw data::DataError("no input could be transcribed (every file was skipped)");
  checkpoint::write_file_atomic(o.out, text);
  return summary;
}

}  // namespace medtrain::asr
