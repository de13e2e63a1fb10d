#include "data/text/text_pack.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/shard/digest.h"
#include "data/shard/record_pack.h"
#include "data/text/bio_tags.h"
#include "data/text/text_record.h"
#include "data/text/tokenizer_folder.h"

namespace medtrain::data::text {
namespace {

const char* target_name(TextTarget t) {
  switch (t) {
    case TextTarget::kClass: return "class";
    case TextTarget::kMultiLabel: return "multilabel";
    case TextTarget::kTags: return "tags";
  }
  return "?";
}

std::string joined(const std::vector<std::string>& names) {
  std::string out = "[";
  for (const auto& n : names) out += (out.size() > 1 ? ", " : "") + n;
  return out + "]";
}

// What the tokens depend on, pack against config: the first difference, naming both.
void check_fits(const std::string& dir, const shard::ShardMetadata& meta, const TextDatasetOptions& o) {
  const std::string where = shard::pack_where(dir);
  const std::string again = shard::repack_hint(dir);
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
  shard::check_pack_sources(dir, meta, have.tokenizer_file, have.tokenizer_sha256, o.tokenizer_dir,
                            tokenizer_file_name(o.tokenizer_dir), tokenizer_sha256(o.tokenizer_dir), o.manifest);
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
  const std::string manifest_name = io::display_path(o.manifest);
  for (const TextExample& e : t.examples) {
    shard::count_packed_row(meta, e.split, e.patient, fmt::format("{}:{}", manifest_name, e.line));
    summary.truncated += e.truncated ? 1 : 0;
  }
  // No resume: tokenising is cheap next to decoding DICOM.
  const shard::RecordPackCounts written = shard::write_record_pack(
      options.out, options.shard_bytes, meta, t.examples.size(), [&](size_t i) { return t.examples[i].split; },
      [&](size_t i) {
        const TextExample& e = t.examples[i];
        return shard::PackedRecord{encode_text_record(e), o.target == TextTarget::kClass ? e.target.at(0) : 0};
      });
  summary.records = t.examples.size();
  summary.shards = written.shards;
  summary.bytes = written.bytes;
  summary.records_per_split = meta.records_per_split;
  return summary;
}

std::shared_ptr<TextDataset> open_text_shards(const std::string& dir, const TextDatasetOptions& o) {
  const shard::ShardMetadata meta = shard::read_complete_pack_metadata(dir);
  check_fits(dir, meta, o);
  std::vector<TextExample> examples;
  shard::read_packed_records(dir, meta, o.split, [&](const uint8_t* p, size_t size, const std::string& where) {
    examples.push_back(decode_text_record(p, size, where));
    check_example(examples.back(), o, where);
  });
  // Manifest order, as the JSONL path has it (all splits interleave when split is empty).
  std::stable_sort(examples.begin(), examples.end(),
                   [](const TextExample& a, const TextExample& b) { return a.line < b.line; });
  // describe() names the manifest line, as from JSONL: the file the pack was checked to come from.
  const std::string source = o.manifest.empty() ? io::display_path(dir) + " (packed manifest)" : o.manifest;
  return make_text_dataset(o, source, std::move(examples), meta.text->pad_id);
}

}  // namespace medtrain::data::text
