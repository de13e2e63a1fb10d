#include "data/shard/record_pack.h"

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/shard/digest.h"
#include "data/shard/shard_reader.h"
#include "data/shard/shard_writer.h"

namespace medtrain::data::shard {

namespace fs = std::filesystem;

void count_packed_row(ShardMetadata& meta, const std::string& split, const std::string& patient,
                      const std::string& where) {
  // The split names the shard files ("<split>-00000.shard"): a '/' would write elsewhere.
  if (split.find_first_of(std::string("/\0", 2)) != std::string::npos) {
    throw DataError(
        fmt::format("{}: split \"{}\" cannot name a shard file (no '/' or NUL in a packed split)", where, split));
  }
  if (!patient.empty() && !split.empty()) meta.patient_split[patient] = split;
  ++meta.records_per_split[split.empty() ? "all" : split];
}

RecordPackCounts write_record_pack(const std::string& out, uint64_t shard_bytes, ShardMetadata& meta, size_t n,
                                   const std::function<std::string(size_t)>& split_of,
                                   const std::function<PackedRecord(size_t)>& record) {
  fs::create_directories(out);
  remove_unlisted_shards(out, {});  // no resume: these packs are quick to make again
  write_metadata(out, meta);        // "complete": false until the last shard is written
  ShardWriter writer(out, shard_bytes, meta);
  for (size_t i = 0; i < n;) {
    const std::string split = split_of(i);
    writer.start(split, 0, 0);
    for (uint64_t row = 0; i < n && split_of(i) == split; ++i, ++row) {
      const PackedRecord r = record(i);
      writer.add(r.bytes, r.label, row);
    }
    writer.finish();
  }
  meta.complete = true;
  write_metadata(out, meta);
  return {writer.shards_written(), writer.bytes_written()};
}

std::string pack_where(const std::string& dir) { return "data.shards " + io::display_path(dir); }

std::string repack_hint(const std::string& dir) {
  return fmt::format(" (re-pack with `medtrain pack -c CONFIG --out {}`)", io::display_path(dir));
}

ShardMetadata read_complete_pack_metadata(const std::string& dir) {
  ShardMetadata meta = read_metadata(dir);
  if (!meta.complete) {
    throw DataError(fmt::format("data.shards {}: the pack is incomplete (\"complete\": false): `medtrain pack` was "
                                "interrupted; re-run it",
                                io::display_path(dir)));
  }
  return meta;
}

void check_pack_sources(const std::string& dir, const ShardMetadata& meta, const std::string& packed_tokenizer_file,
                        const std::string& packed_tokenizer_sha256, const std::string& tokenizer_dir,
                        const std::string& file, const std::string& sha, const std::string& manifest) {
  if (packed_tokenizer_file != file || packed_tokenizer_sha256 != sha) {
    throw DataError(fmt::format("{} was packed with a tokenizer whose {} has SHA-256 {}, model.pretrained {} has {} "
                                "with SHA-256 {}{}",
                                pack_where(dir), packed_tokenizer_file, packed_tokenizer_sha256, tokenizer_dir, file,
                                sha, repack_hint(dir)));
  }
  std::error_code ec;
  if (!manifest.empty() && fs::is_regular_file(manifest, ec)) {
    const std::string manifest_sha = sha256_file_hex(manifest);
    if (manifest_sha != meta.manifest_sha256) {
      throw DataError(fmt::format("{} was packed from a manifest with SHA-256 {}, data.manifest {} has SHA-256 {}{}",
                                  pack_where(dir), meta.manifest_sha256, io::display_path(manifest), manifest_sha,
                                  repack_hint(dir)));
    }
  }
}

void read_packed_records(const std::string& dir, const ShardMetadata& meta, const std::string& split,
                         const std::function<void(const uint8_t*, size_t, const std::string&)>& each) {
  for (const ShardFileInfo& info : meta.shards) {
    if (!split.empty() && info.split != split) continue;
    const std::string path = (fs::path(dir) / info.file).string();
    const ShardReader reader(path);
    if (reader.size() != info.records) {
      throw DataError(fmt::format("{}: {} records, metadata.json lists {}", io::display_path(path), reader.size(),
                                  info.records));
    }
    if (reader.size() == 0) continue;
    const Block block = reader.read_block(0, reader.size());
    for (size_t i = 0; i < reader.size(); ++i) {
      each(reader.checked_record(block, i), reader.entry(i).length, reader.where(i));
    }
  }
}

}  // namespace medtrain::data::shard
