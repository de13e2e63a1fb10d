#pragma once
// Dictated speech for fine-tuning Whisper (model.task asr): a JSONL manifest
// (speech_manifest.h: audio, text, speaker, patient, split) or a speech pack
// (`medtrain pack -c`, speech_pack.h) as a data::Dataset.
//
//   image   float32 [n_mels, 3000]: Whisper's log-mel of the clip (one 30-s
//           window, silence after the clip; data/audio/log_mel.h), with
//           SpecAugment masks when options.spec_augment (training only)
//   target  int64 [L]: prompt + text tokens + <|endoftext|>. The prompt is
//           <|startoftranscript|><|notimestamps|> for .en models, and
//           <|startoftranscript|><|LANG|><|transcribe|><|notimestamps|> when
//           options.language is set (multilingual models). Every prompt id is
//           larger than <|endoftext|>'s, so a loss can drop them by value.
//
// Samples are ragged in the target only (Note [Ragged samples] in
// data/dataset.h, RaggedLayout::fixed_input): the loader pads each batch's
// targets to its longest with -100, and length(i) is the target's length, so
// length bucketing groups texts of a similar number of tokens.
//
// Transcripts are tokenised when the dataset opens; audio is decoded
// (libsndfile + libsoxr) in get(), on the loader's threads.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/audio/spec_augment.h"  // SpecAugmentOptions
#include "data/dataset.h"

namespace medtrain::data::audio {

class WhisperLogMel;  // log_mel.h

struct SpeechDatasetOptions {
  std::string manifest;       // .jsonl; paths relative to its folder
  std::string split;          // empty = every row
  std::string tokenizer_dir;  // the model folder: tokenizer.json (+ vocabulary.txt)
  std::string language;       // "" (.en models) or a code such as "en" (<|en|>)
  int64_t max_tokens = 448;   // target tokens, prompt and <|endoftext|> included
  int64_t n_mels = 80;
  bool spec_augment = false;
  SpecAugmentOptions spec;   // spec_augment.h
};

// One utterance, from either source.
struct SpeechExample {
  std::vector<int64_t> ids;   // the target (above)
  std::string text;           // the transcript as written in the manifest
  std::string speaker, patient, split;
  std::string where;          // for describe(): "<manifest>:<line> (<audio path>)" or "<pack>/<shard>#<record>"
  std::string audio_path;     // manifest: decoded in get(); empty when `pcm` holds the audio
  std::vector<float> pcm;     // packs: 16 kHz mono samples, read back at open
};

struct SpeechDatasetStats {
  size_t utterances = 0;
  int64_t longest_tokens = 0;
  size_t speakers = 0, patients = 0;
};

class SpeechDataset final : public Dataset {
 public:
  size_t size() const override { return examples_.size(); }
  Sample get(size_t index, uint64_t rng_seed) const override;
  std::string describe(size_t index) const override;
  int64_t label(size_t /*index*/) const override { return 0; }
  RaggedLayout ragged() const override;
  int64_t length(size_t index) const override { return static_cast<int64_t>(examples_.at(index).ids.size()); }

  const std::vector<SpeechExample>& examples() const { return examples_; }
  const SpeechDatasetStats& stats() const { return stats_; }
  int64_t eot_id() const { return eot_id_; }
  const std::vector<int64_t>& prompt() const { return prompt_; }

 private:
  friend std::shared_ptr<SpeechDataset> make_speech_dataset(const SpeechDatasetOptions& options,
                                                            std::vector<SpeechExample> examples);
  SpeechDatasetOptions options_;
  std::vector<SpeechExample> examples_;
  std::vector<int64_t> prompt_;
  int64_t eot_id_ = 0;
  SpeechDatasetStats stats_;
  std::shared_ptr<const WhisperLogMel> log_mel_;  // one per dataset: thread-safe, and its filterbank is built once
};

// Reads options.manifest (every row is checked, whatever the split) and
// tokenises the transcripts of options.split. DataError naming the manifest
// and line: bad JSON, a missing or empty field, invalid UTF-8, a transcript
// longer than max_tokens with its prompt, an audio path that escapes the
// manifest's folder or does not exist, a patient with rows in two splits
// (a leak between training and evaluation; a speaker may appear in several:
// a department fine-tunes on its own radiologists' voices). DataError naming
// the folder when the tokenizer lacks Whisper's special tokens.
std::vector<SpeechExample> read_speech_manifest(const SpeechDatasetOptions& options);

// The dataset of `examples` (from read_speech_manifest or a pack).
std::shared_ptr<SpeechDataset> make_speech_dataset(const SpeechDatasetOptions& options,
                                                   std::vector<SpeechExample> examples);

// read_speech_manifest + make_speech_dataset.
std::shared_ptr<SpeechDataset> open_speech_dataset(const SpeechDatasetOptions& options);

}  // namespace medtrain::data::audio
