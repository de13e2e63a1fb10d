#include "data/text/text_pack.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/shard/digest.h"
#include "data/shard/shard_reader.h"
#include "data/shard/shard_writer.h"
#include "data/text/bio_tags.h"
#include "data/text/text_record.h"
#include "data/text/tokenizer_folder.h"

namespace medtrain::data::text {
namespace {

namespace fs = std::filesystem;

const char* target_name(TextTarget t) {
  switch (t) {
    case TextTarget::kClass: return "class";
    case TextTarget::kMultiLabel: return "multilabel";
    case TextTarget::kTags: return "tags";
  }
  return "?";
}

std::string split_key(const std::string& split) { return split.empty() ? "all" : split; }

std::string joined(const std::vector<std::string>& names) {
  std::string out = "[";
  for (const auto& n : names) out += (out.size() > 1 ? ", " : "") + n;
  return out + "]";
}

// What the tokens depend on, pack against config: the first difference, naming both.
void check_fits(const std::string& dir, const shard::ShardMetadata& meta, const TextDatasetOptions& o) {
  const std::string where = "data.shards " + io::display_path(dir);
  const std::string again = fmt::format(" (re-pack with `medtrain pack -c CONFIG --out {}`)", io::display_path(dir));
  if (meta.settings.target != shard::kTextPackTarget || !meta.text) {
    throw DataError(fmt::format("{} holds images (target {}), not tokenised text; data.dataset text needs a pack made "
                                "with `medtrain pack -c` from a text config",
                                where, meta.settings.target));
  }
  const shard::TextPackInfo& have = *meta.text;
  if (have.target != target_name(o.target)) {
    throw DataError(fmt::format("{} was packed for target {}, the config's model.task needs {}{}", where, have.target,
                                target_name(o.target), again));
  }
  if (have.max_length != o.max_length) {
    throw DataError(fmt::format("{} was packed with data.max_length {}, the config has {}{}", where, have.max_length,
                                o.max_length, again));
  }
  if (meta.label_names != o.label_names) {
    throw DataError(fmt::format("{} was packed with data.label_names {}, the config has {}{}", where,
                                joined(meta.label_names), joined(o.label_names), again));
  }
  const std::string file = tokenizer_file_name(o.tokenizer_dir);
  const std::string sha = tokenizer_sha256(o.tokenizer_dir);
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
// by another tool, or edited): refuse targets the loss would misread.
void check_example(const TextExample& e, const TextDatasetOptions& o, const std::string& where) {
  const int64_t k = static_cast<int64_t>(o.label_names.size());
  auto bad = [&](const std::string& what) { throw DataError(where + ": " + what + " (id " + e.id + ")"); };
  if (e.ids.empty() || static_cast<int64_t>(e.ids.size()) > o.max_length) {
    bad(fmt::format("{} tokens, outside 1..max_length {}", e.ids.size(), o.max_length));
  }
  if (std::any_of(e.ids.begin(), e.ids.end(), [](int32_t id) { return id < 0; })) bad("negative token id");
  switch (o.target) {
    case TextTarget::kClass:
      if (e.target.size() != 1 || e.target[0] < 0 || e.target[0] >= k) bad("class target out of range");
      break;
    case TextTarget::kMultiLabel:
      if (static_cast<int64_t>(e.target.size()) != k ||
          std::any_of(e.target.begin(), e.target.end(), [](int32_t v) { return v != 0 && v != 1; })) {
        bad("multilabel target is not one 0/1 per label name");
      }
      break;
    case TextTarget::kTags:
      if (e.target.size() != e.ids.size() ||
          std::any_of(e.target.begin(), e.target.end(),
                      [&](int32_t v) { return v != kIgnoreTag && (v < 0 || v >= tag_count(static_cast<size_t>(k))); })) {
        bad("tags are not one BIO tag per token");
      }
      break;
  }
}

std::vector<TextExample> read_shard(const std::string& path, const shard::ShardFileInfo& info,
                                    const TextDatasetOptions& o) {
  const shard::ShardReader reader(path);
  if (reader.size() != info.records) {
    throw DataError(fmt::format("{}: {} records, metadata.json lists {}", io::display_path(path), reader.size(),
                                info.records));
  }
  std::vector<TextExample> out;
  if (reader.size() == 0) return out;
  const shard::Block block = reader.read_block(0, reader.size());
  for (size_t i = 0; i < reader.size(); ++i) {
    const uint8_t* p = reader.checked_record(block, i);
    out.push_back(decode_text_record(p, reader.entry(i).length, reader.where(i)));
    check_example(out.back(), o, reader.where(i));
  }
  return out;
}

}  // namespace

shard::TextPackInfo text_pack_info(const TextDatasetOptions& o, int64_t pad_id) {
  shard::TextPackInfo info;
  info.target = target_name(o.target);
  info.tokenizer_file = tokenizer_file_name(o.tokenizer_dir);
  info.tokenizer_sha256 = tokenizer_sha256(o.tokenizer_dir);
  info.max_length = o.max_length;
  info.pad_id = pad_id;
  return info;
}

TextPackSummary pack_text_dataset(const TextPackOptions& options) {
  if (options.shard_bytes < 4096) throw DataError("pack: --shard-mb is too small");
  TextDatasetOptions o = options.dataset;
  o.split.clear();
  const std::string manifest_sha = shard::sha256_file_hex(o.manifest);
  TokenisedManifest t = tokenise_text_manifest(o);  // every row checked, as training from JSONL checks them
  shard::ShardMetadata meta;
  meta.manifest_sha256 = manifest_sha;
  meta.settings.compression = "none";
  meta.settings.shard_bytes = options.shard_bytes;
  meta.settings.target = shard::kTextPackTarget;
  meta.label_names = o.label_names;
  meta.text = text_pack_info(o, t.pad_id);
  // Shards hold one split each, in manifest order (stable: rows keep file order).
  std::stable_sort(t.examples.begin(), t.examples.end(),
                   [](const TextExample& a, const TextExample& b) { return a.split < b.split; });
  TextPackSummary summary;
  for (const TextExample& e : t.examples) {
    // The split names the shard files ("<split>-00000.shard"): a '/' would write elsewhere.
    if (e.split.find_first_of(std::string("/\0", 2)) != std::string::npos) {
      throw DataError(fmt::format("{}:{}: split \"{}\" cannot name a shard file (no '/' or NUL in a packed split)",
                                  io::display_path(o.manifest), e.line, e.split));
    }
    if (!e.patient.empty() && !e.split.empty()) meta.patient_split[e.patient] = e.split;
    ++meta.records_per_split[split_key(e.split)];
    summary.truncated += e.truncated ? 1 : 0;
  }
  fs::create_directories(options.out);
  shard::remove_unlisted_shards(options.out, {});  // no resume: tokenising is cheap next to decoding DICOM
  shard::write_metadata(options.out, meta);        // "complete": false until the last shard is written
  shard::ShardWriter writer(options.out, options.shard_bytes, meta);
  for (size_t i = 0; i < t.examples.size();) {
    const std::string split = t.examples[i].split;
    writer.start(split, 0, 0);
    for (uint64_t row = 0; i < t.examples.size() && t.examples[i].split == split; ++i, ++row) {
      const TextExample& e = t.examples[i];
      writer.add(encode_text_record(e), o.target == TextTarget::kClass ? e.target.at(0) : 0, row);
    }
    writer.finish();
  }
  meta.complete = true;
  shard::write_metadata(options.out, meta);
  summary.records = t.examples.size();
  summary.shards = writer.shards_written();
  summary.bytes = writer.bytes_written();
  summary.records_per_split = meta.records_per_split;
  return summary;
}

std::shared_ptr<TextDataset> open_text_shards(const std::string& dir, const TextDatasetOptions& o) {
  const shard::ShardMetadata meta = shard::read_metadata(dir);
  if (!meta.complete) {
    throw DataError(fmt::format("data.shards {}: the pack is incomplete (\"complete\": false): `medtrain pack` was "
                                "interrupted; re-run it",
                                io::display_path(dir)));
  }
  check_fits(dir, meta, o);
  std::vector<TextExample> examples;
  for (const auto& info : meta.shards) {
    if (!o.split.empty() && info.split != o.split) continue;
    auto part = read_shard((fs::path(dir) / info.file).string(), info, o);
    examples.insert(examples.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  // Manifest order, as the JSONL path has it (all splits interleave when split is empty).
  std::stable_sort(examples.begin(), examples.end(),
                   [](const TextExample& a, const TextExample& b) { return a.line < b.line; });
  // describe() names the manifest line, as from JSONL: the file the pack was checked to come from.
  const std::string source = o.manifest.empty() ? io::display_path(dir) + " (packed manifest)" : o.manifest;
  return make_text_dataset(o, source, std::move(examples), meta.text->pad_id);
}

}  // namespace medtrain::data::text
