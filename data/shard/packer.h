#pragma once
// `medtrain pack`: turns a manifest of DICOM files into shards (shard_format.h)
// plus DIR/metadata.json (shard_metadata.h).
//
// Records keep each split's manifest order and go to that split's shards
// ("train-00000.shard", ...); a shard ends before the record that would take
// it past shard_bytes. Decoding runs on `workers` threads, writing stays in
// order, and zstd runs single-threaded at a fixed level, so the output is byte
// for byte the same for any number of workers.
//
// Each shard is written as NAME.tmp, fsynced and renamed; metadata.json is
// rewritten (atomically, "complete": false) after every shard. A re-run with
// the same manifest bytes and settings keeps the shards already listed whose
// size and SHA-256 still match, deletes leftovers (.tmp, unlisted shards) and
// packs the rest: an interrupted pack resumes where it stopped.
#include <cstdint>
#include <string>
#include <vector>

#include "data/shard/shard_metadata.h"

namespace medtrain::data::shard {

// What a manifest file that cannot be read or decoded does to the pack.
enum class PackOnError {
  kFail,  // stop, naming the file and its manifest line (shards finished so far stay, "complete": false)
  kSkip,  // leave it out; listed in metadata.json "skipped" and in PackSummary::skipped
};

struct PackOptions {
  std::string manifest;
  std::string root;                   // empty = the manifest's folder
  std::string out;                    // created when missing
  uint64_t shard_bytes = 64ull << 20;
  std::string compression = "zstd";   // "zstd" | "none"
  size_t workers = 2;
  int64_t image_size = 0;             // > 0: resize (modality values) at pack time; 0 = keep
  std::vector<std::string> label_names;
  PackOnError on_error = PackOnError::kFail;
  // "class": the manifest's label column; "multilabel": its labels column (names
  // from label_names, or indices), stored as a bit set in each record's label;
  // "mask": the file of its mask column, stored in each record (segmentation).
  std::string target = "class";
  bool volumes = false;  // manifest paths are series folders, packed as whole volumes
};

struct PackSummary {
  uint64_t records = 0;
  size_t shards_written = 0;
  size_t shards_kept = 0;   // verified shards of an earlier, interrupted run
  uint64_t bytes = 0;       // all shards
  std::vector<SkippedFile> skipped;  // as in metadata.json, also those of an earlier run
};

// Throws DataError naming the manifest line (bad row, duplicate path, a
// patient in two splits, missing file), the DICOM file that failed to decode
// and its line ("manifest.csv:12: cannot pack images/a.dcm: ..."; with kSkip
// only when every file failed), or the output file that could not be written.
// Rows skipped with kSkip do not count in records_per_split; with them the
// output is still byte-identical for any number of workers, and resumable.
PackSummary pack_dataset(const PackOptions& options);

}  // namespace medtrain::data::shard
