#pragma once
// Tokenised reports in shards: `medtrain pack -c CONFIG` writes them, and
// training with data.dataset text and data.shards reads them back, without
// tokenising again, into the same TextDataset (text_dataset.h) the JSONL path
// builds: same samples in the same order, so the same batches, length buckets
// and losses.
//
// The pack uses the shard container of data/shard/ (one record per report,
// text_record.h; CRC32C per record, SHA-256 per file, metadata.json with
// "target": "text"). metadata.json "text" records what the tokens depend on
// (tokenizer file and its SHA-256, max_length, the target; label_names as for
// images); opening a pack whose values differ from the config's is refused,
// naming both. A bad manifest line stops the pack exactly as it stops training
// from the JSONL file (the same reader and checks): nothing is skipped.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "data/shard/shard_metadata.h"
#include "data/text/text_dataset.h"

namespace medtrain::data::text {

struct TextPackOptions {
  TextDatasetOptions dataset;  // manifest, target, label_names, tokenizer_dir, max_length; split is ignored
  std::string out;             // created when missing; shards of an earlier pack there are replaced
  uint64_t shard_bytes = 64ull << 20;
};

struct TextPackSummary {
  uint64_t records = 0;
  size_t shards = 0;
  uint64_t bytes = 0;
  std::map<std::string, uint64_t> records_per_split;  // "all" for rows without a split
  size_t truncated = 0;                               // texts cut at max_length
};

// Tokenises every row of the manifest (every split) and writes the pack.
// Throws DataError: the manifest and tokenizer errors of open_text_dataset,
// an unwritable output folder.
TextPackSummary pack_text_dataset(const TextPackOptions& options);

// What a pack made with `options` records (hashes the tokenizer file).
shard::TextPackInfo text_pack_info(const TextDatasetOptions& options, int64_t pad_id);

// The records of options.split (empty: every split, in manifest order) of the
// pack in `dir`. Throws DataError naming the folder and both values when the
// pack does not fit the options (not a text pack, another target, tokenizer
// file, max_length or label_names, or another manifest when options.manifest
// names an existing file), for an incomplete pack, and naming the shard file
// (and record) for a missing, truncated or corrupt shard.
std::shared_ptr<TextDataset> open_text_shards(const std::string& dir, const TextDatasetOptions& options);

}  // namespace medtrain::data::text
