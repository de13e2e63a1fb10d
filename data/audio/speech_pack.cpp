#include "data/audio/speech_pack.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <utility>

#include "data/audio/load_audio.h"
#include "data/audio/speech_record.h"
#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/shard/digest.h"
#include "data/shard/shard_reader.h"
#include "data/shard/shard_writer.h"
#include "data/text/tokenizer_folder.h"

namespace medtrain::data::audio {
namespace {

namespace fs = std::filesystem;

std::string split_key(const std::string& split) { return split.empty() ? "all" : split; }

std::string quoted(const std::string& s) { return s.empty() ? "\"\" (none)" : "\"" + s + "\""; }

// What the samples depend on, pack against config: the first difference, naming both.
void check_fits(const std::string& dir, const shard::ShardMetadata& meta, const SpeechDatasetOptions& o) {
  const std::string where = "data.shards " + io::display_path(dir);
  const std::string again = fmt::format(" (re-pack with `medtrain pack -c CONFIG --out {}`)", io::display_path(dir));
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
  const std::string file = text::tokenizer_file_name(o.tokenizer_dir);
  const std::string sha = text::tokenizer_sha256(o.tokenizer_dir);
  if (have.tokenizer_file != file || have.tokenizer_sha256 != sha) {
    throw DataError(fmt::format("{} was packed with a tokenizer whose {} has SHA-256 {}, model.pretrained {} has {} "
                                "with SHA-256 {}{}",
                                where, have.tokenizer_file, have.tokenizer_sha256, o.tokenizer_dir, file, sha, again));
  }
  std::error_code ec;
  if (!o.manifest.empty() && fs::is_regular_file(o.manifest, ec)) {
    const std::string manifest_sha = shard::sha256_file_hex(o.manifest);
    if (manifest_sha != meta.manifest_sha256) {
      throw DataError(fmt::format("{} was packed from a manifest with SHA-256 {}, data.manifest {} has SHA-256 {}{}",
                                  where, meta.manifest_sha256, io::display_path(o.manifest), manifest_sha, again));
    }
  }
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

std::vector<SpeechRecord> read_shard(const std::string& path, const shard::ShardFileInfo& info,
                                     const SpeechDatasetOptions& o) {
  const shard::ShardReader reader(path);
  if (reader.size() != info.records) {
    throw DataError(fmt::format("{}: {} records, metadata.json lists {}", io::display_path(path), reader.size(),
                                info.records));
  }
  std::vector<SpeechRecord> out;
  if (reader.size() == 0) return out;
  const shard::Block block = reader.read_block(0, reader.size());
  for (size_t i = 0; i < reader.size(); ++i) {
    const uint8_t* p = reader.checked_record(block, i);
    out.push_back(decode_speech_record(p, reader.entry(i).length, reader.where(i)));
    out.back().example.where = reader.where(i);
    check_example(out.back().example, o, reader.where(i));
  }
  return out;
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
  for (const SpeechExample& e : examples) {
    // The split names the shard files ("<split>-00000.shard"): a '/' would write elsewhere.
    if (e.split.find_first_of(std::string("/\0", 2)) != std::string::npos) {
      throw DataError(fmt::format("{}: split \"{}\" cannot name a shard file (no '/' or NUL in a packed split)",
                                  e.where, e.split));
    }
    if (!e.patient.empty() && !e.split.empty()) meta.patient_split[e.patient] = e.split;
    ++meta.records_per_split[split_key(e.split)];
  }
  fs::create_directories(options.out);
  shard::remove_unlisted_shards(options.out, {});  // no resume: a pack of dictation decodes in minutes
  shard::write_metadata(options.out, meta);        // "complete": false until the last shard is written
  shard::ShardWriter writer(options.out, options.shard_bytes, meta);
  SpeechPackSummary summary;
  for (size_t i = 0; i < order.size();) {
    const std::string split = examples[order[i]].split;
    writer.start(split, 0, 0);
    for (uint64_t row = 0; i < order.size() && examples[order[i]].split == split; ++i, ++row) {
      SpeechExample& e = examples[order[i]];
      // One utterance's PCM at a time: the pack is written as it decodes.
      LoadedAudio audio = load_audio_16k(e.audio_path);
      summary.warnings.insert(summary.warnings.end(), audio.warnings.begin(), audio.warnings.end());
      summary.seconds += static_cast<double>(audio.samples.size()) / kWhisperSampleRate;
      e.pcm = std::move(audio.samples);
      writer.add(encode_speech_record(e, order[i]), 0, row);
      e.pcm = {};
    }
    writer.finish();
  }
  meta.complete = true;
  shard::write_metadata(options.out, meta);
  summary.records = examples.size();
  summary.shards = writer.shards_written();
  summary.bytes = writer.bytes_written();
  summary.records_per_split = meta.records_per_split;
  return summary;
}

std::shared_ptr<SpeechDataset> open_speech_shards(const std::string& dir, const SpeechDatasetOptions& o) {
  const shard::ShardMetadata meta = shard::read_metadata(dir);
  if (!meta.complete) {
    throw DataError(fmt::format("data.shards {}: the pack is incomplete (\"complete\": false): `medtrain pack` was "
                                "interrupted; re-run it",
                                io::display_path(dir)));
  }
  check_fits(dir, meta, o);
  std::vector<SpeechRecord> records;
  for (const auto& info : meta.shards) {
    if (!o.split.empty() && info.split != o.split) continue;
    auto part = read_shard((fs::path(dir) / info.file).string(), info, o);
    records.insert(records.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  // Manifest order, as the JSONL path has it (all splits interleave when split is empty).
  std::stable_sort(records.begin(), records.end(),
                   [](const SpeechRecord& a, const SpeechRecord& b) { return a.order < b.order; });
  std::vector<SpeechExample> examples;
  examples.reserve(records.size());
  for (SpeechRecord& r : records) examples.push_back(std::move(r.example));
  return make_speech_dataset(o, std::move(examples));
}

}  // namespace medtrain::data::audio
