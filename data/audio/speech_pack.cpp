#include "data/audio/speech_pack.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "data/audio/load_audio.h"
#include "data/audio/speech_record.h"
#include "data/data_error.h"
#include "data/shard/digest.h"
#include "data/shard/record_pack.h"
#include "data/text/tokenizer_folder.h"

namespace medtrain::data::audio {
namespace {

std::string quoted(const std::string& s) { return s.empty() ? "\"\" (none)" : "\"" + s + "\""; }

// What the samples depend on, pack against config: the first difference, naming both.
void check_fits(const std::string& dir, const shard::ShardMetadata& meta, const SpeechDatasetOptions& o) {
  const std::string where = shard::pack_where(dir);
  const std::string again = shard::repack_hint(dir);
  if (meta.settings.target != shard::kSpeechPackTarget || !meta.speech) {
    throw DataError(fmt::format("{} holds target {}, not utterances; data.dataset speech needs a pack made with "
                                "`medtrain pack -c` from a speech config",
                                where, meta.settings.target));
  }
  const shard::SpeechPackInfo& have = *meta.speech;
  if (have.sample_rate != kWhisperSampleRate) {
    throw DataError(fmt::format("{} holds {} Hz audio, Whisper reads {} Hz{}", where, have.sample_rate,
                                kWhisperSampleRate, again));
  }
  if (have.max_tokens != o.max_tokens) {
    throw DataError(fmt::format("{} was packed with data.max_length {} (target tokens), the config has {}{}", where,
                                have.max_tokens, o.max_tokens, again));
  }
  if (have.language != o.language) {
    throw DataError(fmt::format("{} was packed with data.language {}, the config has {}{}", where,
                                quoted(have.language), quoted(o.language), again));
  }
  if (have.n_mels != o.n_mels) {
    throw DataError(fmt::format("{} was packed for {} mel bins, the config's model has {}{}", where, have.n_mels,
                                o.n_mels, again));
  }
  shard::check_pack_sources(dir, meta, have.tokenizer_file, have.tokenizer_sha256, o.tokenizer_dir,
                            text::tokenizer_file_name(o.tokenizer_dir), text::tokenizer_sha256(o.tokenizer_dir),
                            o.manifest);
}

// A record whose CRC holds can still disagree with the metadata (a pack made
// by another tool, or edited): refuse what the loss or the log-mel would misread.
void check_example(const SpeechExample& e, const SpeechDatasetOptions& o, const std::string& where) {
  auto bad = [&](const std::string& what) { throw DataError(where + ": " + what); };
  if (e.ids.empty() || static_cast<int64_t>(e.ids.size()) > o.max_tokens) {
    bad(fmt::format("{} target tokens, outside 1..max_tokens {}", e.ids.size(), o.max_tokens));
  }
  if (e.pcm.empty()) bad("no audio samples");
  if (!std::all_of(e.pcm.begin(), e.pcm.end(), [](float v) { return std::isfinite(v); })) bad("a NaN or infinite sample");
}

}  // namespace

shard::SpeechPackInfo speech_pack_info(const SpeechDatasetOptions& o) {
  shard::SpeechPackInfo info;
  info.tokenizer_file = text::tokenizer_file_name(o.tokenizer_dir);
  info.tokenizer_sha256 = text::tokenizer_sha256(o.tokenizer_dir);
  info.max_tokens = o.max_tokens;
  info.language = o.language;
  info.n_mels = o.n_mels;
  info.sample_rate = kWhisperSampleRate;
  return info;
}

SpeechPackSummary pack_speech_dataset(const SpeechPackOptions& options) {
  if (options.shard_bytes < 4096) throw DataError("pack: --shard-mb is too small");
  SpeechDatasetOptions o = options.dataset;
  o.split.clear();
  o.spec_augment = false;
  const std::string manifest_sha = shard::sha256_file_hex(o.manifest);
  std::vector<SpeechExample> examples = read_speech_manifest(o);  // every row checked, as training from JSONL checks them
  shard::ShardMetadata meta;
  meta.manifest_sha256 = manifest_sha;
  meta.settings.compression = "none";
  meta.settings.shard_bytes = options.shard_bytes;
  meta.settings.target = shard::kSpeechPackTarget;
  meta.speech = speech_pack_info(o);
  // Shards hold one split each, in manifest order: `order` is the manifest
  // position, kept in the record so an every-split open restores it.
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return examples[a].split < examples[b].split; });
  for (const SpeechExample& e : examples) shard::count_packed_row(meta, e.split, e.patient, e.where);
  SpeechPackSummary summary;
  // No resume: a pack of dictation decodes in minutes.
  const shard::RecordPackCounts written = shard::write_record_pack(
      options.out, options.shard_bytes, meta, order.size(), [&](size_t i) { return examples[order[i]].split; },
      [&](size_t i) {
        SpeechExample& e = examples[order[i]];
        // One utterance's PCM at a time: the pack is written as it decodes.
        LoadedAudio audio = load_audio_16k(e.audio_path);
        summary.warnings.insert(summary.warnings.end(), audio.warnings.begin(), audio.warnings.end());
        summary.seconds += static_cast<double>(audio.samples.size()) / kWhisperSampleRate;
        e.pcm = std::move(audio.samples);
        shard::PackedRecord r{encode_speech_record(e, order[i]), 0};
        e.pcm = {};
        return r;
      });
  summary.records = examples.size();
  summary.shards = written.shards;
  summary.bytes = written.bytes;
  summary.records_per_split = meta.records_per_split;
  return summary;
}

std::shared_ptr<SpeechDataset> open_speech_shards(const std::string& dir, const SpeechDatasetOptions& o) {
  const shard::ShardMetadata meta = shard::read_complete_pack_metadata(dir);
  check_fits(dir, meta, o);
  std::vector<SpeechRecord> records;
  shard::read_packed_records(dir, meta, o.split, [&](const uint8_t* p, size_t size, const std::string& where) {
    records.push_back(decode_speech_record(p, size, where));
    records.back().example.where = where;
    check_example(records.back().example, o, where);
  });
  // Manifest order, as the JSONL path has it (all splits interleave when split is empty).
  std::stable_sort(records.begin(), records.end(),
                   [](const SpeechRecord& a, const SpeechRecord& b) { return a.order < b.order; });
  std::vector<SpeechExample> examples;
  examples.reserve(records.size());
  for (SpeechRecord& r : records) examples.push_back(std::move(r.example));
  return make_speech_dataset(o, std::move(examples));
}

}  // namespace medtrain::data::audio
