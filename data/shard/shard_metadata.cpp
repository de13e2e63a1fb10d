#include "data/shard/shard_metadata.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/shard/durable_file.h"

namespace medtrain::data::shard {

using nlohmann::json;

std::string shard_file_name(const std::string& split, size_t n) {
  // The packers refuse such splits with the manifest line; this is the last guard.
  if (split.find_first_of(std::string("/\0", 2)) != std::string::npos) {
    throw DataError("split '" + split + "' cannot name a shard file (no '/' or NUL in a split)");
  }
  return fmt::format("{}-{:05d}.shard", split.empty() ? "all" : split, n);
}

bool is_pack_target(const std::string& target) {
  return target == "class" || target == "multilabel" || target == "mask";
}

std::string to_json(const ShardMetadata& m) {
  json j;
  j["format"] = "medtrain-shards";
  j["format_version"] = m.format_version;
  j["complete"] = m.complete;
  j["manifest_sha256"] = m.manifest_sha256;
  if (m.settings.target == kTextPackTarget) {
    j["preprocessing"] = {{"tokens", "WordPiece ids of model.pretrained's tokenizer (see \"text\"), special tokens "
                                     "included, truncated at max_length, not padded"},
                          {"image_size", 0}};
  } else if (m.settings.target == kSpeechPackTarget) {
    j["preprocessing"] = {{"audio", "decoded (libsndfile), averaged to mono, resampled to 16 kHz (libsoxr), float32; "
                                    "the log-mel is computed when training reads a record"},
                          {"tokens", "Whisper prompt + transcript + <|endoftext|> ids of model.pretrained's "
                                     "tokenizer (see \"speech\")"},
                          {"image_size", 0}};
  } else {
    j["preprocessing"] = {
        {"pixels", m.settings.volumes ? "the series as a volume (slices sorted along their normal), modality values"
                                        : "first frame, grey (colour: BT.601 luma), modality values after the modality LUT (HU for CT)"},
        {"window_applied", false},
        {"normalize_applied", false},
        {"augmentation_applied", false},
        {"image_size", m.settings.image_size},
        {"resize", m.settings.image_size > 0 ? "bilinear, antialiased when shrinking, in modality units"
                                             : "none (stored size)"}};
  }
  j["compression"] = m.settings.compression;
  j["shard_bytes_target"] = m.settings.shard_bytes;
  j["record_checksum"] = "crc32c";
  j["file_checksum"] = "sha256";
  j["label_names"] = m.label_names;
  j["target"] = m.settings.target;
  j["volumes"] = m.settings.volumes;
  j["patient_split"] = m.patient_split;
  j["records_per_split"] = m.records_per_split;
  json shards = json::array();
  for (const auto& s : m.shards) {
    shards.push_back({{"file", s.file}, {"split", s.split}, {"first_row", s.first_row}, {"records", s.records},
                      {"bytes", s.bytes}, {"sha256", s.sha256}});
  }
  j["shards"] = shards;
  json skipped = json::array();
  for (const auto& f : m.skipped) {
    skipped.push_back({{"path", f.path}, {"line", f.line}, {"split", f.split}, {"error", f.error}});
  }
  j["skipped"] = skipped;
  if (m.text) {
    j["text"] = {{"target", m.text->target},
                 {"tokenizer_file", m.text->tokenizer_file},
                 {"tokenizer_sha256", m.text->tokenizer_sha256},
                 {"max_length", m.text->max_length},
                 {"pad_id", m.text->pad_id}};
  }
  if (m.speech) {
    j["speech"] = {{"tokenizer_file", m.speech->tokenizer_file},
                   {"tokenizer_sha256", m.speech->tokenizer_sha256},
                   {"max_tokens", m.speech->max_tokens},
                   {"language", m.speech->language},
                   {"n_mels", m.speech->n_mels},
                   {"sample_rate", m.speech->sample_rate}};
  }
  return j.dump(2) + "\n";
}

ShardMetadata read_metadata(const std::string& dir) {
  const std::string full_path = (std::filesystem::path(dir) / kMetadataFile).string();
  const std::string path = io::display_path(full_path);  // for messages
  std::error_code ec;  // the non-throwing form: a too-long path is a DataError, not a 1 MB exception text
  if (!std::filesystem::exists(full_path, ec)) {
    throw DataError(path + ": no shard metadata (is " + io::display_path(dir) + " a folder made by `medtrain pack`?)");
  }
  // Guarded: a FIFO or a huge file in place of metadata.json fails instead of blocking.
  const std::string text = io::read_user_file(full_path, "shard metadata", io::kMaxSmallJsonBytes);
  std::string key = "(root)";
  try {
    const json j = json::parse(text);
    auto at = [&](const json& obj, const char* k) -> const json& {
      key = k;
      return obj.at(k);
    };
    ShardMetadata m;
    m.format_version = at(j, "format_version").get<int>();
    if (m.format_version != kFormatVersion) {
      throw DataError(path + ": format_version " + std::to_string(m.format_version) + " is not supported (this medtrain reads " +
                      std::to_string(kFormatVersion) + "); re-run `medtrain pack`");
    }
    m.complete = at(j, "complete").get<bool>();
    m.manifest_sha256 = at(j, "manifest_sha256").get<std::string>();
    m.settings.image_size = at(at(j, "preprocessing"), "image_size").get<int64_t>();
    m.settings.compression = at(j, "compression").get<std::string>();
    m.settings.shard_bytes = at(j, "shard_bytes_target").get<uint64_t>();
    m.label_names = at(j, "label_names").get<std::vector<std::string>>();
    if (j.contains("target")) {  // absent in packs made before multilabel shards: class labels
      m.settings.target = at(j, "target").get<std::string>();
      if (!is_pack_target(m.settings.target) && m.settings.target != kTextPackTarget &&
          m.settings.target != kSpeechPackTarget) {
        throw DataError(path + ": target \"" + m.settings.target + "\" is not class, multilabel, mask, text or speech");
      }
    }
    if (j.contains("volumes")) m.settings.volumes = at(j, "volumes").get<bool>();  // absent before volume packs
    m.patient_split = at(j, "patient_split").get<std::map<std::string, std::string>>();
    m.records_per_split = at(j, "records_per_split").get<std::map<std::string, uint64_t>>();
    for (const json& s : at(j, "shards")) {
      ShardFileInfo f;
      f.file = at(s, "file").get<std::string>();
      f.split = at(s, "split").get<std::string>();
      f.first_row = at(s, "first_row").get<uint64_t>();
      f.records = at(s, "records").get<uint64_t>();
      f.bytes = at(s, "bytes").get<uint64_t>();
      f.sha256 = at(s, "sha256").get<std::string>();
      if (f.file.empty() || f.file.find('/') != std::string::npos) {
        throw DataError(path + ": shards[].file \"" + f.file + "\" must be a plain file name");
      }
      m.shards.push_back(f);
    }
    if (j.contains("skipped")) {  // absent in packs made before --on-error
      for (const json& s : at(j, "skipped")) {
        SkippedFile f;
        f.path = at(s, "path").get<std::string>();
        f.line = at(s, "line").get<uint64_t>();
        f.split = at(s, "split").get<std::string>();
        f.error = at(s, "error").get<std::string>();
        m.skipped.push_back(f);
      }
    }
    if (m.settings.target == kTextPackTarget) {
      const json& t = at(j, "text");
      TextPackInfo info;
      info.target = at(t, "target").get<std::string>();
      info.tokenizer_file = at(t, "tokenizer_file").get<std::string>();
      info.tokenizer_sha256 = at(t, "tokenizer_sha256").get<std::string>();
      info.max_length = at(t, "max_length").get<int64_t>();
      info.pad_id = at(t, "pad_id").get<int64_t>();
      m.text = info;
    }
    if (m.settings.target == kSpeechPackTarget) {
      const json& t = at(j, "speech");
      SpeechPackInfo info;
      info.tokenizer_file = at(t, "tokenizer_file").get<std::string>();
      info.tokenizer_sha256 = at(t, "tokenizer_sha256").get<std::string>();
      info.max_tokens = at(t, "max_tokens").get<int64_t>();
      info.language = at(t, "language").get<std::string>();
      info.n_mels = at(t, "n_mels").get<int64_t>();
      info.sample_rate = at(t, "sample_rate").get<int64_t>();
      m.speech = info;
    }
    return m;
  } catch (const json::exception& e) {
    throw DataError(path + ": key \"" + key + "\": " + e.what());
  }
}

void write_metadata(const std::string& dir, const ShardMetadata& m) {
  write_file_atomic((std::filesystem::path(dir) / kMetadataFile).string(), to_json(m));
}

}  // namespace medtrain::data::shard
