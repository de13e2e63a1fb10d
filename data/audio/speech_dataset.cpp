#include "data/audio/speech_dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

#include "data/audio/audio_signal_checks.h"
#include "data/audio/load_audio.h"
#include "data/audio/log_mel.h"
#include "data/audio/whisper_tokens.h"
#include "data/data_error.h"

namespace medtrain::data::audio {
namespace {

constexpr int64_t kMaxClipSamples = kWhisperWindowFrames * kWhisperHop;  // 30 s at 16 kHz

std::string seconds(size_t samples) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(samples) / kWhisperSampleRate);
  return buf;
}

// What training refuses to learn from (the loader skips it under
// data.on_error skip): no samples, silence, or more than the one 30-s window
// the model sees (the rest of the transcript would be words without audio).
void check_clip(const std::vector<float>& pcm, const std::string& where) {
  if (pcm.empty()) throw DataError(where + ": the clip holds no audio (zero samples)");
  float peak = 0.0f;
  for (float x : pcm) peak = std::max(peak, std::abs(x));
  if (peak < kSilentPeak) {
    throw DataError(where + ": the clip is silent (peak below -80 dBFS over " + seconds(pcm.size()) +
                    "); a transcript needs speech to learn from");
  }
  if (static_cast<int64_t>(pcm.size()) > kMaxClipSamples) {
    throw DataError(where + ": the clip is " + seconds(pcm.size()) +
                    " long; fine-tuning takes one 30-s window per utterance: split the dictation into clips of "
                    "at most 30 s with their own transcripts");
  }
}

}  // namespace

std::shared_ptr<SpeechDataset> make_speech_dataset(const SpeechDatasetOptions& options,
                                                   std::vector<SpeechExample> examples) {
  auto d = std::shared_ptr<SpeechDataset>(new SpeechDataset());
  d->options_ = options;
  const text::Tokenizer tokenizer = load_whisper_tokenizer(options.tokenizer_dir);
  d->prompt_ = whisper_prompt(tokenizer, options.tokenizer_dir, options.language);
  d->eot_id_ = whisper_tokens(tokenizer, options.tokenizer_dir).eot;
  std::set<std::string> speakers, patients;
  for (const SpeechExample& e : examples) {
    d->stats_.longest_tokens = std::max(d->stats_.longest_tokens, static_cast<int64_t>(e.ids.size()));
    if (!e.speaker.empty()) speakers.insert(e.speaker);
    if (!e.patient.empty()) patients.insert(e.patient);
  }
  d->stats_.utterances = examples.size();
  d->stats_.speakers = speakers.size();
  d->stats_.patients = patients.size();
  d->examples_ = std::move(examples);
  d->log_mel_ = std::make_shared<const WhisperLogMel>(torch::kCPU, options.n_mels);
  return d;
}

std::shared_ptr<SpeechDataset> open_speech_dataset(const SpeechDatasetOptions& options) {
  return make_speech_dataset(options, read_speech_manifest(options));
}

Sample SpeechDataset::get(size_t index, uint64_t rng_seed) const {
  const SpeechExample& e = examples_.at(index);
  std::vector<float> decoded;
  if (!e.audio_path.empty()) decoded = load_audio_16k(e.audio_path).samples;
  const std::vector<float>& pcm = e.audio_path.empty() ? e.pcm : decoded;
  check_clip(pcm, e.where);
  // from_blob does not copy; windows() only reads the wave while it runs.
  const auto wave = torch::from_blob(const_cast<float*>(pcm.data()), {static_cast<int64_t>(pcm.size())}, torch::kFloat32);
  torch::Tensor mel = log_mel_->windows(wave)[0].contiguous();
  if (options_.spec_augment) {
    const int64_t frames = static_cast<int64_t>(pcm.size()) / kWhisperHop + 1;  // those holding the clip
    apply_spec_augment(mel, options_.spec, frames, rng_seed);
  }
  return {mel, torch::tensor(e.ids, torch::kInt64)};
}

std::string SpeechDataset::describe(size_t index) const { return examples_.at(index).where; }

RaggedLayout SpeechDataset::ragged() const {
  RaggedLayout r;
  r.ragged = true;
  r.ragged_target = true;
  r.fixed_input = true;
  r.target_pad = -100;
  return r;
}

}  // namespace medtrain::data::audio
