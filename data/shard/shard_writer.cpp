#include "data/shard/shard_writer.h"

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <tuple>

#include "data/shard/crc32c.h"
#include "data/shard/digest.h"
#include "data/shard/durable_file.h"

namespace medtrain::data::shard {

namespace fs = std::filesystem;

namespace {

// Split, then number: the same list whatever was kept from an earlier run.
void sort_shards(ShardMetadata& m) {
  std::sort(m.shards.begin(), m.shards.end(), [](const ShardFileInfo& a, const ShardFileInfo& b) {
    return std::tie(a.split, a.file) < std::tie(b.split, b.file);
  });
}

}  // namespace

void ShardWriter::start(const std::string& split, size_t number, uint64_t first_row) {
  split_ = split;
  number_ = number;
  first_row_ = first_row;
  bytes_.assign(kShardMagic, kShardMagic + sizeof(kShardMagic));
  entries_.clear();
}

void ShardWriter::add(const std::vector<uint8_t>& record, int64_t label, uint64_t row) {
  if (!entries_.empty() &&
      bytes_.size() + record.size() + kFooterBytes + (entries_.size() + 1) * kIndexEntryBytes > shard_bytes_) {
    finish();
    start(split_, number_ + 1, row);
  }
  if (entries_.empty()) first_row_ = row;  // rows before it may have been skipped
  entries_.push_back(
      {bytes_.size(), static_cast<uint32_t>(record.size()), crc32c(record.data(), record.size()), label});
  bytes_.insert(bytes_.end(), record.begin(), record.end());
}

void ShardWriter::finish() {
  if (entries_.empty()) return;
  const auto index = encode_index(entries_, bytes_.size());
  bytes_.insert(bytes_.end(), index.begin(), index.end());
  ShardFileInfo f{shard_file_name(split_, number_), split_, first_row_, entries_.size(), bytes_.size(),
                  sha256_hex(bytes_.data(), bytes_.size())};
  write_file_atomic((fs::path(out_) / f.file).string(),
                    std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size()));
  meta_.shards.push_back(f);
  sort_shards(meta_);
  write_metadata(out_, meta_);  // the resume point
  ++shards_written_;
  bytes_written_ += f.bytes;
  entries_.clear();
}

void remove_unlisted_shards(const std::string& out, const std::vector<ShardFileInfo>& kept) {
  for (const auto& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    const bool ours = name.size() > 6 && (name.rfind(".shard") == name.size() - 6 ||
                                          name.find(".shard.tmp") != std::string::npos ||
                                          name == std::string(kMetadataFile) + ".tmp");
    if (!ours) continue;
    bool listed = false;
    for (const auto& k : kept) listed = listed || k.file == name;
    if (!listed) fs::remove(entry.path());
  }
}

}  // namespace medtrain::data::shard
