#pragma once
// Dictation in shards: `medtrain pack -c CONFIG` of a data.dataset speech
// experiment decodes and resamples every utterance once (load_audio.h) and
// writes its 16 kHz PCM with the tokenised transcript; training with
// data.shards reads them back into the same SpeechDataset
// (speech_dataset.h) the JSONL path builds, without touching the audio files:
// same utterances, ids, speakers, patients and order, and PCM equal to
// load_audio_16k's, so the same log-mels.
//
// The pack uses the shard container of data/shard/ (one record per utterance,
// speech_record.h; CRC32C per record, SHA-256 per file, metadata.json with
// "target": "speech"). metadata.json "speech" records what the samples depend
// on (tokenizer file and its SHA-256, max_tokens, language, n_mels); opening a
// pack whose values differ from the config's is refused, naming both. A bad
// manifest line stops the pack exactly as it stops training from the JSONL
// file (the same reader and checks), and so does an audio file that cannot be
// decoded (its DataError names it): nothing is skipped.
//
// A pack is held in RAM once opened (the records are read whole: about
// 230 MB per hour of audio), as text packs are; the PCM is 4 bytes a sample,
// not compressed.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/audio/speech_dataset.h"
#include "data/shard/shard_metadata.h"

namespace medtrain::data::audio {

struct SpeechPackOptions {
  SpeechDatasetOptions dataset;  // manifest, tokenizer_dir, language, max_tokens, n_mels; split and SpecAugment ignored
  std::string out;               // created when missing; shards of an earlier pack there are replaced
  uint64_t shard_bytes = 64ull << 20;
};

struct SpeechPackSummary {
  uint64_t records = 0;
  size_t shards = 0;
  uint64_t bytes = 0;
  double seconds = 0;                                 // of audio packed
  std::map<std::string, uint64_t> records_per_split;  // "all" for rows without a split
  std::vector<std::string> warnings;                  // the decoder's, one line each naming the file
};

// Reads every row of the manifest (every split), decodes each audio file to
// 16 kHz mono and writes the pack. Throws DataError: the manifest and
// tokenizer errors of read_speech_manifest, load_audio_16k's naming the audio
// file, an unwritable output folder.
SpeechPackSummary pack_speech_dataset(const SpeechPackOptions& options);

// What a pack made with `options` records (hashes the tokenizer file).
shard::SpeechPackInfo speech_pack_info(const SpeechDatasetOptions& options);

// The utterances of options.split (empty: every split, in manifest order) of
// the pack in `dir`: example.pcm filled, audio_path empty, where
// "<shard>: record <i> at offset <o>". Throws DataError naming the folder and
// both values when the pack does not fit the options (not a speech pack,
// tokenizer file, max_tokens, language or n_mels, or another manifest when
// options.manifest names an existing file), for an incomplete pack, and naming
// the shard file (and record) for a missing, truncated or corrupt shard.
std::shared_ptr<SpeechDataset> open_speech_shards(const std::string& dir, const SpeechDatasetOptions& options);

}  // namespace medtrain::data::audio
