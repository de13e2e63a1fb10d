#include "data/shard/packer.h"

#include <torch/nn/functional/upsampling.h>

#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "data/data_error.h"
#include "data/dicom/dicom_image.h"
#include "data/io/user_file.h"
#include "data/manifest.h"
#include "data/dicom/seg_labels.h"
#include "data/dicom/series_volume.h"
#include "data/shard/digest.h"
#include "data/shard/shard_format.h"
#include "data/shard/shard_metadata.h"
#include "data/shard/shard_writer.h"

namespace medtrain::data::shard {
namespace {

// The label a record carries: the class, or the multilabel bit set (below 2^63,
// manifest.h's kMaxLabels, so it stays a non-negative int64).
int64_t record_label(const ManifestRow& row, const PackOptions& o) {
  return o.target == "multilabel" ? static_cast<int64_t>(row.labels) : row.label;
}

namespace fs = std::filesystem;

// The first frame as grey modality values, resized to --image-size when set.
torch::Tensor image_values(const DicomImage& image, const PackOptions& o) {
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
  return hu;
}

// The mask file as training reads it, one byte per voxel; a DICOM SEG on the
// grid of `volume`, or of `image` for a 2D record (seg_labels.h).
void set_mask(Record& r, const std::string& path, const std::string& image, const SeriesVolume* volume,
              const PackOptions& o) {
  const torch::Tensor mask = (volume != nullptr ? read_volume_mask(path, *volume, 0, o.label_names)
                                                : read_image_mask(path, image, 0, o.label_names))
                                 .contiguous();
  const int64_t largest = mask.numel() > 0 ? mask.max().item<int64_t>() : 0;
  if (largest > 255) {
    throw DataError(io::display_path(path) + ": mask value " + std::to_string(largest) +
                    " does not fit a shard's u8 class index");
  }
  for (const int64_t d : mask.sizes()) r.mask_shape.push_back(static_cast<uint32_t>(d));
  r.mask.resize(static_cast<size_t>(mask.numel()));
  const int64_t* v = mask.data_ptr<int64_t>();
  for (size_t i = 0; i < r.mask.size(); ++i) r.mask[i] = static_cast<uint8_t>(v[i]);
}

std::vector<uint8_t> encode_row(const ManifestRow& row, const std::string& root, const PackOptions& o) {
  const std::string path = (fs::path(root) / row.path).string();
  Record r;
  r.id = row.path;
  r.patient_id = row.patient_id;
  r.label = record_label(row, o);
  std::optional<SeriesVolume> volume;
  if (o.volumes) {
    // Slices may rescale differently; their modality values are what is kept.
    volume = read_series_volume(path);
    const torch::Tensor voxels = volume->voxels.contiguous();
    r.depth = static_cast<uint32_t>(voxels.size(0));
    r.spacing = volume->spacing;  // for data.slice_spacing / pixel_spacing at read time
    set_pixels(r, voxels.data_ptr<float>(), static_cast<uint32_t>(voxels.size(1)),
               static_cast<uint32_t>(voxels.size(2)), 1.0, 0.0);
  } else {
    const DicomImage image = read_dicom_image(path);
    const torch::Tensor hu = image_values(image, o);
    const auto& info = image.info;
    set_pixels(r, hu.data_ptr<float>(), static_cast<uint32_t>(hu.size(0)), static_cast<uint32_t>(hu.size(1)),
               info.slope, info.intercept);
    if (info.window_center && info.window_width) {
      r.has_window = true;
      r.window_center = *info.window_center;
      r.window_width = *info.window_width;
    }
  }
  if (o.target == "mask") set_mask(r, (fs::path(root) / row.mask).string(), path, volume ? &*volume : nullptr, o);
  return encode_record(r, o.compression == "zstd" ? Compression::kZstd : Compression::kNone);
}

struct Encoded {
  std::vector<uint8_t> bytes;
  std::string error;  // not empty: the file could not be read or decoded
};

// One line, with the root taken out of paths: metadata.json must not depend on
// where the data sits (and stays byte-identical for any worker count).
std::string error_text(std::string msg, const ManifestRow& row, const std::string& root) {
  const std::string full = (fs::path(root) / row.path).string();
  for (size_t at = msg.find(full); at != std::string::npos; at = msg.find(full, at + row.path.size())) {
    msg.replace(at, full.size(), row.path);
  }
  std::replace(msg.begin(), msg.end(), '\n', ' ');
  return msg;
}

Encoded encode_or_error(const ManifestRow& row, const std::string& root, const PackOptions& o) {
  try {
    return {encode_row(row, root, o), ""};
  } catch (const std::bad_alloc&) {
    throw;  // the machine's problem, not the file's
  } catch (const c10::Error& e) {
    return {{}, error_text(e.what_without_backtrace(), row, root)};
  } catch (const std::exception& e) {
    return {{}, error_text(e.what(), row, root)};
  }
}

// Encodes rows[begin, end) on `workers` threads; result i is rows[begin + i].
std::vector<Encoded> encode_rows(const std::vector<const ManifestRow*>& rows, size_t begin, size_t end,
                                 const std::string& root, const PackOptions& o) {
  std::vector<Encoded> out(end - begin);
  std::vector<std::exception_ptr> fatal(end - begin);
  std::atomic<size_t> next{begin};
  auto work = [&] {
    for (size_t i = next++; i < end; i = next++) {
      try {
        out[i - begin] = encode_or_error(*rows[i], root, o);
      } catch (...) {
        fatal[i - begin] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < std::max<size_t>(1, o.workers); ++t) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  for (auto& e : fatal) {
    if (e) std::rethrow_exception(e);
  }
  return out;
}

// What an earlier, interrupted run left that can stay: same manifest and
// settings, and for each split the leading run of listed shards whose bytes
// still match, with the files it skipped (needed to know where it stopped).
struct Earlier {
  std::vector<ShardFileInfo> shards;
  std::vector<SkippedFile> skipped;
};

Earlier verified_earlier_shards(const PackOptions& o, const ShardMetadata& fresh) {
  Earlier kept;
  if (!fs::exists(fs::path(o.out) / kMetadataFile)) return kept;
  ShardMetadata old;
  try {
    old = read_metadata(o.out);
  } catch (const DataError&) {
    return kept;  // unreadable: everything is re-packed
  }
  if (old.manifest_sha256 != fresh.manifest_sha256 || !(old.settings == fresh.settings)) return kept;
  // Shards that left files out cannot stand in for a pack that must not.
  if (o.on_error == PackOnError::kFail && !old.skipped.empty()) return kept;
  std::map<std::string, bool> broken;  // split -> a shard of it failed: later ones are re-packed too
  for (const auto& s : old.shards) {
    if (broken[s.split]) continue;
    const fs::path p = fs::path(o.out) / s.file;
    std::error_code ec;
    const bool ok = fs::is_regular_file(p, ec) && fs::file_size(p, ec) == s.bytes && sha256_file_hex(p.string()) == s.sha256;
    if (ok) {
      kept.shards.push_back(s);
    } else {
      broken[s.split] = true;
    }
  }
  kept.skipped = old.skipped;
  return kept;
}

// Where a split resumes: the row after the last record of its kept shards,
// and the files skipped before it (the rest are tried again).
struct ResumePoint {
  size_t number = 0;  // next shard number
  uint64_t row = 0;
};

ResumePoint resume_point(const std::string& split, const std::vector<const ManifestRow*>& rows,
                         const Earlier& earlier, PackSummary& summary, std::vector<SkippedFile>& skipped) {
  std::set<size_t> skipped_lines;
  for (const auto& f : earlier.skipped) {
    if (f.split == split) skipped_lines.insert(f.line);
  }
  ResumePoint p;
  for (const auto& k : earlier.shards) {
    if (k.split != split) continue;
    ++p.number;
    uint64_t i = k.first_row, n = 0;
    for (; i < rows.size() && n < k.records; ++i) n += skipped_lines.count(rows[i]->line) == 0;
    p.row = i;
    ++summary.shards_kept;
    summary.bytes += k.bytes;
  }
  for (const auto& f : earlier.skipped) {
    if (f.split != split) continue;
    // rows are in manifest (line) order
    const auto at = std::lower_bound(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(p.row), f.line,
                                     [](const ManifestRow* r, size_t line) { return r->line < line; });
    if (at != rows.begin() + static_cast<std::ptrdiff_t>(p.row) && (*at)->line == f.line && (*at)->path == f.path) {
      skipped.push_back(f);
    }
  }
  return p;
}

// Packs one split's rows from `from` on; a file that fails is skipped or stops
// the pack, per o.on_error.
void pack_split(const PackOptions& o, const Manifest& manifest, const std::string& split,
                const std::vector<const ManifestRow*>& rows, uint64_t from, ShardWriter& writer,
                std::vector<SkippedFile>& skipped) {
  const size_t chunk = std::max<size_t>(64, 16 * o.workers);
  for (size_t begin = from; begin < rows.size(); begin += chunk) {
    const size_t end = std::min(rows.size(), begin + chunk);
    const auto encoded = encode_rows(rows, begin, end, manifest.root, o);
    for (size_t i = 0; i < encoded.size(); ++i) {
      const ManifestRow& row = *rows[begin + i];
      if (encoded[i].error.empty()) {
        writer.add(encoded[i].bytes, record_label(row, o), begin + i);
      } else if (o.on_error == PackOnError::kSkip) {
        skipped.push_back({row.path, row.line, split, encoded[i].error});
      } else {
        throw DataError(fmt::format("{}:{}: cannot pack {}: {} (fix or remove the file, or pack with --on-error skip)",
                                    io::display_path(o.manifest), row.line, io::display_path(row.path),
                                    encoded[i].error));
      }
    }
  }
}

}  // namespace

PackSummary pack_dataset(const PackOptions& o) {
  if (o.compression != "zstd" && o.compression != "none") {
    throw DataError("pack: --compress must be zstd or none (got \"" + o.compression + "\")");
  }
  if (o.shard_bytes < 4096) throw DataError("pack: --shard-mb is too small");
  if (o.image_size < 0) throw DataError("pack: --image-size must be >= 0");
  if (!fs::is_regular_file(o.manifest)) {
    throw DataError(io::display_path(o.manifest) + ": manifest not found (pack --manifest)");
  }
  if (!is_pack_target(o.target)) {
    throw DataError("pack: --target must be class, multilabel or mask (got \"" + o.target + "\")");
  }
  if (o.volumes && o.image_size > 0) {
    throw DataError("pack: --image-size resizes 2D images; volumes are packed at their stored size (drop one of "
                    "--volumes, --image-size)");
  }
  ManifestOptions mo;
  mo.manifest_path = o.manifest;
  mo.root = o.root;
  mo.label_names = o.label_names;  // the labels column may name findings
  mo.paths_are_folders = o.volumes;
  const Manifest manifest = read_manifest(mo);  // duplicates, patient splits, missing files
  if (o.target == "mask" && !manifest.has_mask) {
    throw DataError(io::display_path(o.manifest) + ": pack --target mask needs a 'mask' column in the manifest header");
  }
  if (o.target == "multilabel" && !manifest.has_labels) {
    throw DataError(io::display_path(o.manifest) +
                    ": pack --target multilabel needs a 'labels' column in the manifest header");
  }
  if (o.target == "class" && !manifest.has_label) {
    throw DataError(io::display_path(o.manifest) +
                    ": pack needs a 'label' column (or --target multilabel with a 'labels' column)");
  }

  ShardMetadata meta;
  meta.manifest_sha256 = sha256_file_hex(o.manifest);
  meta.settings = {o.image_size, o.compression, o.shard_bytes, o.target, o.volumes};
  meta.label_names = o.label_names;
  std::map<std::string, std::vector<const ManifestRow*>> by_split;
  for (const auto& r : manifest.rows) {
    by_split[r.split].push_back(&r);
    if (!r.patient_id.empty()) meta.patient_split[r.patient_id] = r.split;
  }
  for (const auto& [split, rows] : by_split) meta.records_per_split[split.empty() ? "all" : split] = rows.size();

  fs::create_directories(o.out);
  const Earlier earlier = verified_earlier_shards(o, meta);
  remove_unlisted_shards(o.out, earlier.shards);
  meta.shards = earlier.shards;  // listed from the start: a second interruption keeps them too
  PackSummary summary;
  std::map<std::string, ResumePoint> resume;
  for (const auto& [split, rows] : by_split) resume[split] = resume_point(split, rows, earlier, summary, meta.skipped);
  write_metadata(o.out, meta);  // "complete": false before anything else: a pack that stops now never looks finished
  ShardWriter writer(o.out, o.shard_bytes, meta);
  for (const auto& [split, rows] : by_split) {
    writer.start(split, resume[split].number, resume[split].row);
    pack_split(o, manifest, split, rows, resume[split].row, writer, meta.skipped);
    writer.finish();
  }
  summary.shards_written = writer.shards_written();
  summary.bytes += writer.bytes_written();
  // Split, then manifest order, however the list was assembled (earlier run + this one).
  std::sort(meta.skipped.begin(), meta.skipped.end(), [](const SkippedFile& a, const SkippedFile& b) {
    return std::tie(a.split, a.line) < std::tie(b.split, b.line);
  });
  if (!manifest.rows.empty() && meta.skipped.size() == manifest.rows.size()) {
    const SkippedFile& f = meta.skipped.front();
    throw DataError(fmt::format("{}: none of the {} files could be packed; the first, line {} ({}): {}",
                                io::display_path(o.manifest), manifest.rows.size(), f.line,
                                io::display_path(f.path), f.error));
  }
  for (const auto& f : meta.skipped) --meta.records_per_split[f.split.empty() ? "all" : f.split];
  summary.records = manifest.rows.size() - meta.skipped.size();
  summary.skipped = meta.skipped;
  meta.complete = true;
  write_metadata(o.out, meta);
  return summary;
}

}  // namespace medtrain::data::shard
