#include "data/shard/packer.h"

#include <torch/nn/functional/upsampling.h>

#include <algorithm>
#include <atomic>
#include <tuple>
#include <filesystem>
#include <map>
#include <thread>

#include "data/data_error.h"
#include "data/dicom_image.h"
#include "data/manifest.h"
#include "data/shard/crc32c.h"
#include "data/shard/digest.h"
#include "data/shard/durable_file.h"
#include "data/shard/shard_format.h"
#include "data/shard/shard_metadata.h"

namespace medtrain::data::shard {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> encode_row(const ManifestRow& row, const std::string& root, const PackOptions& o) {
  const DicomImage image = read_dicom_image((fs::path(root) / row.path).string());
  torch::Tensor hu = grey_frame(image, 0).contiguous();
  if (o.image_size > 0 && (hu.size(0) != o.image_size || hu.size(1) != o.image_size)) {
    namespace F = torch::nn::functional;
    const bool shrinking = hu.size(0) > o.image_size || hu.size(1) > o.image_size;
    hu = F::interpolate(hu.unsqueeze(0).unsqueeze(0),
                        F::InterpolateFuncOptions()
                            .size(std::vector<int64_t>{o.image_size, o.image_size})
                            .mode(torch::kBilinear)
                            .align_corners(false)
                            .antialias(shrinking))
             .squeeze(0)
             .squeeze(0)
             .contiguous();
  }
  Record r;
  r.id = row.path;
  r.patient_id = row.patient_id;
  r.label = row.label;
  const auto& info = image.info;
  set_pixels(r, hu.data_ptr<float>(), static_cast<uint32_t>(hu.size(0)), static_cast<uint32_t>(hu.size(1)),
             info.slope, info.intercept);
  if (info.window_center && info.window_width) {
    r.has_window = true;
    r.window_center = *info.window_center;
    r.window_width = *info.window_width;
  }
  return encode_record(r, o.compression == "zstd" ? Compression::kZstd : Compression::kNone);
}

// Encodes rows[begin, end) on `workers` threads; result i is rows[begin + i].
std::vector<std::vector<uint8_t>> encode_rows(const std::vector<const ManifestRow*>& rows, size_t begin,
                                              size_t end, const std::string& root, const PackOptions& o) {
  std::vector<std::vector<uint8_t>> out(end - begin);
  std::vector<std::exception_ptr> errors(end - begin);
  std::atomic<size_t> next{begin};
  auto work = [&] {
    for (size_t i = next++; i < end; i = next++) {
      try {
        out[i - begin] = encode_row(*rows[i], root, o);
      } catch (...) {
        errors[i - begin] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::max<size_t>(1, o.workers); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);  // the first failing row in manifest order
  }
  return out;
}

// Split, then number: the same list whatever was kept from an earlier run.
void sort_shards(ShardMetadata& m) {
  std::sort(m.shards.begin(), m.shards.end(), [](const ShardFileInfo& a, const ShardFileInfo& b) {
    return std::tie(a.split, a.file) < std::tie(b.split, b.file);
  });
}

class ShardWriter {
 public:
  ShardWriter(const PackOptions& o, ShardMetadata& meta, PackSummary& summary)
      : o_(o), meta_(meta), summary_(summary) {}

  void start(const std::string& split, size_t number, uint64_t first_row) {
    split_ = split;
    number_ = number;
    first_row_ = first_row;
    bytes_.assign(kShardMagic, kShardMagic + sizeof(kShardMagic));
    entries_.clear();
  }
  void add(const std::vector<uint8_t>& record, int64_t label) {
    if (!entries_.empty() && bytes_.size() + record.size() + kFooterBytes +
                                     (entries_.size() + 1) * kIndexEntryBytes > o_.shard_bytes) {
      finish();
      start(split_, number_ + 1, first_row_ + entries_.size());
    }
    entries_.push_back({bytes_.size(), static_cast<uint32_t>(record.size()), crc32c(record.data(), record.size()), label});
    bytes_.insert(bytes_.end(), record.begin(), record.end());
  }
  void finish() {
    if (entries_.empty()) return;
    const auto index = encode_index(entries_, bytes_.size());
    bytes_.insert(bytes_.end(), index.begin(), index.end());
    ShardFileInfo f{shard_file_name(split_, number_), split_, first_row_, entries_.size(), bytes_.size(),
                    sha256_hex(bytes_.data(), bytes_.size())};
    write_file_atomic((fs::path(o_.out) / f.file).string(),
                      std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size()));
    meta_.shards.push_back(f);
    sort_shards(meta_);
    write_metadata(o_.out, meta_);  // the resume point
    ++summary_.shards_written;
    summary_.bytes += f.bytes;
    // Keep first_row_/entries_ until start() so add() can compute the next first row.
  }

 private:
  const PackOptions& o_;
  ShardMetadata& meta_;
  PackSummary& summary_;
  std::string split_;
  size_t number_ = 0;
  uint64_t first_row_ = 0;
  std::vector<uint8_t> bytes_;
  std::vector<IndexEntry> entries_;
};

// Shards of an earlier run that can stay: same manifest and settings, and for
// each split the leading run of listed shards whose bytes still match.
std::vector<ShardFileInfo> verified_earlier_shards(const PackOptions& o, const ShardMetadata& fresh) {
  std::vector<ShardFileInfo> kept;
  if (!fs::exists(fs::path(o.out) / kMetadataFile)) return kept;
  ShardMetadata old;
  try {
    old = read_metadata(o.out);
  } catch (const DataError&) {
    return kept;  // unreadable: everything is re-packed
  }
  if (old.manifest_sha256 != fresh.manifest_sha256 || !(old.settings == fresh.settings)) return kept;
  std::map<std::string, bool> broken;  // split -> a shard of it failed: later ones are re-packed too
  for (const auto& s : old.shards) {
    if (broken[s.split]) continue;
    const fs::path p = fs::path(o.out) / s.file;
    std::error_code ec;
    const bool ok = fs::is_regular_file(p, ec) && fs::file_size(p, ec) == s.bytes && sha256_file_hex(p.string()) == s.sha256;
    if (ok) {
      kept.push_back(s);
    } else {
      broken[s.split] = true;
    }
  }
  return kept;
}

void remove_leftovers(const std::string& out, const std::vector<ShardFileInfo>& kept) {
  for (const auto& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    const bool ours = name.size() > 6 && (name.rfind(".shard") == name.size() - 6 || name.find(".shard.tmp") != std::string::npos ||
                                          name == std::string(kMetadataFile) + ".tmp");
    if (!ours) continue;
    bool listed = false;
    for (const auto& k : kept) listed = listed || k.file == name;
    if (!listed) fs::remove(entry.path());
  }
}

}  // namespace

PackSummary pack_dataset(const PackOptions& o) {
  if (o.compression != "zstd" && o.compression != "none") {
    throw DataError("pack: --compress must be zstd or none (got \"" + o.compression + "\")");
  }
  if (o.shard_bytes < 4096) throw DataError("pack: --shard-mb is too small");
  if (o.image_size < 0) throw DataError("pack: --image-size must be >= 0");
  if (!fs::is_regular_file(o.manifest)) throw DataError(o.manifest + ": manifest not found (pack --manifest)");
  ManifestOptions mo;
  mo.manifest_path = o.manifest;
  mo.root = o.root;
  const Manifest manifest = read_manifest(mo);  // duplicates, patient splits, missing files

  ShardMetadata meta;
  meta.manifest_sha256 = sha256_file_hex(o.manifest);
  meta.settings = {o.image_size, o.compression, o.shard_bytes};
  meta.label_names = o.label_names;
  std::map<std::string, std::vector<const ManifestRow*>> by_split;
  for (const auto& r : manifest.rows) {
    by_split[r.split].push_back(&r);
    if (!r.patient_id.empty()) meta.patient_split[r.patient_id] = r.split;
  }
  for (const auto& [split, rows] : by_split) meta.records_per_split[split.empty() ? "all" : split] = rows.size();

  fs::create_directories(o.out);
  const auto kept = verified_earlier_shards(o, meta);
  remove_leftovers(o.out, kept);
  meta.shards = kept;  // listed from the start: a second interruption keeps them too
  PackSummary summary;
  ShardWriter writer(o, meta, summary);
  for (const auto& [split, rows] : by_split) {
    size_t number = 0;
    uint64_t row = 0;
    for (const auto& k : kept) {
      if (k.split != split) continue;
      ++number;
      row = k.first_row + k.records;
      ++summary.shards_kept;
      summary.bytes += k.bytes;
    }
    writer.start(split, number, row);
    const size_t chunk = std::max<size_t>(64, 16 * o.workers);
    for (size_t begin = row; begin < rows.size(); begin += chunk) {
      const size_t end = std::min(rows.size(), begin + chunk);
      const auto records = encode_rows(rows, begin, end, manifest.root, o);
      for (size_t i = 0; i < records.size(); ++i) writer.add(records[i], rows[begin + i]->label);
    }
    writer.finish();
  }
  summary.records = manifest.rows.size();
  meta.complete = true;
  write_metadata(o.out, meta);
  return summary;
}

}  // namespace medtrain::data::shard
