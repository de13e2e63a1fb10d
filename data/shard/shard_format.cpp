#include "data/shard/shard_format.h"

#include <zstd.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "data/data_error.h"
#include "data/shard/crc32c.h"

namespace medtrain::data::shard {
namespace {

template <typename T>
void put(std::vector<uint8_t>& out, size_t at, T v) {
  std::memcpy(out.data() + at, &v, sizeof(T));
}
template <typename T>
T get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

size_t bytes_per_value(PixelEncoding e) { return e == PixelEncoding::kFloat32 ? 4 : 2; }

float linear(double q, double slope, double intercept) { return static_cast<float>(q * slope + intercept); }

// Stores q with value == float(q * slope + intercept) bit for bit, when every
// pixel has such a q in [lo, hi]; false otherwise.
template <typename Q>
bool try_linear(Record& r, const float* v, size_t n, double slope, double intercept) {
  if (!(slope != 0) || !std::isfinite(slope) || !std::isfinite(intercept)) return false;
  r.pixels.resize(n * sizeof(Q));
  for (size_t i = 0; i < n; ++i) {
    const double q = std::nearbyint((static_cast<double>(v[i]) - intercept) / slope);
    if (!(q >= std::numeric_limits<Q>::min() && q <= std::numeric_limits<Q>::max())) return false;
    const float back = linear(q, slope, intercept);
    if (std::memcmp(&back, &v[i], 4) != 0) return false;
    const Q stored = static_cast<Q>(q);
    std::memcpy(r.pixels.data() + i * sizeof(Q), &stored, sizeof(Q));
  }
  r.slope = slope;
  r.intercept = intercept;
  return true;
}

}  // namespace

void set_pixels(Record& r, const float* v, uint32_t rows, uint32_t cols, double slope, double intercept) {
  r.rows = rows;
  r.cols = cols;
  const size_t n = static_cast<size_t>(r.depth) * rows * cols;
  // The file's own rescale first (CT: q is the stored value), then identity
  // (values already integral, e.g. after MONOCHROME1 reflection), then float32.
  for (const auto& [s, b] : {std::pair{slope, intercept}, std::pair{1.0, 0.0}}) {
    if (try_linear<int16_t>(r, v, n, s, b)) {
      r.encoding = PixelEncoding::kInt16Linear;
      return;
    }
    if (try_linear<uint16_t>(r, v, n, s, b)) {
      r.encoding = PixelEncoding::kUint16Linear;
      return;
    }
  }
  r.encoding = PixelEncoding::kFloat32;
  r.slope = 1.0;
  r.intercept = 0.0;
  r.pixels.resize(n * 4);
  std::memcpy(r.pixels.data(), v, n * 4);
}

void decode_pixels(const Record& r, float* out, const std::string& where) {
  const size_t n = static_cast<size_t>(r.depth) * r.rows * r.cols;
  const uint8_t* p = r.pixels.data();
  switch (r.encoding) {
    case PixelEncoding::kInt16Linear:
      for (size_t i = 0; i < n; ++i) out[i] = linear(get<int16_t>(p + 2 * i), r.slope, r.intercept);
      break;
    case PixelEncoding::kUint16Linear:
      for (size_t i = 0; i < n; ++i) out[i] = linear(get<uint16_t>(p + 2 * i), r.slope, r.intercept);
      break;
    case PixelEncoding::kFloat32: {
      // Copy and finiteness check in one pass (a hostile pack may hold NaN).
      bool finite = true;
      for (size_t i = 0; i < n; ++i) {
        const float v = get<float>(p + 4 * i);
        finite &= std::fabs(v) <= std::numeric_limits<float>::max();
        out[i] = v;
      }
      if (!finite) throw DataError(where + ": pixel values hold NaN or infinity; re-run `medtrain pack`");
      break;
    }
  }
}

namespace {

// The zstd frame of `raw`; nothing for nothing.
std::vector<uint8_t> zstd_frame(const std::vector<uint8_t>& raw, int level, const std::string& id) {
  if (raw.empty()) return {};
  std::vector<uint8_t> out(ZSTD_compressBound(raw.size()));
  const size_t n = ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), level);
  if (ZSTD_isError(n)) throw DataError("shard record " + id + ": zstd: " + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

// `raw` bytes from the `stored` bytes at p; `bad` throws.
template <typename Bad>
std::vector<uint8_t> decompress(const uint8_t* p, size_t stored, size_t raw, bool zstd, const char* what,
                                const Bad& bad) {
  std::vector<uint8_t> out(raw);
  if (zstd) {
    const size_t n = ZSTD_decompress(out.data(), raw, p, stored);
    if (ZSTD_isError(n)) bad(std::string(what) + " zstd: " + ZSTD_getErrorName(n));
    if (n != raw) bad(std::string(what) + " zstd payload decompressed to " + std::to_string(n) + " bytes, expected " + std::to_string(raw));
  } else {
    if (stored != raw) bad(std::string("uncompressed ") + what + " payload of " + std::to_string(stored) + " bytes, expected " + std::to_string(raw));
    if (raw > 0) std::memcpy(out.data(), p, raw);
  }
  return out;
}

uint64_t mask_voxels(const std::vector<uint32_t>& shape) {
  uint64_t n = 1;
  for (const uint32_t d : shape) n *= d;
  return shape.empty() ? 0 : n;
}

}  // namespace

std::vector<uint8_t> encode_record(const Record& r, Compression compression, int zstd_level) {
  if (r.id.size() > 0xFFFF || r.patient_id.size() > 0xFFFF) throw DataError("shard record " + r.id + ": id too long");
  if (r.depth < 1) throw DataError("shard record " + r.id + ": depth 0");
  if (!r.mask_shape.empty() && ((r.mask_shape.size() != 2 && r.mask_shape.size() != 3) ||
                                r.mask.size() != mask_voxels(r.mask_shape))) {
    throw DataError("shard record " + r.id + ": mask bytes do not match its shape");
  }
  const bool extended = r.depth != 1 || !r.mask_shape.empty() || r.spacing != std::array<double, 3>{};
  // Uncompressed records point at the record's own bytes: no copy.
  const bool zstd = compression == Compression::kZstd;
  const std::vector<uint8_t> zstd_pixels = zstd ? zstd_frame(r.pixels, zstd_level, r.id) : std::vector<uint8_t>{};
  const std::vector<uint8_t> zstd_mask = zstd ? zstd_frame(r.mask, zstd_level, r.id) : std::vector<uint8_t>{};
  const std::vector<uint8_t>& body = zstd ? zstd_pixels : r.pixels;
  const std::vector<uint8_t>& mask = zstd ? zstd_mask : r.mask;
  const size_t header = kRecordHeaderBytes + (extended ? kRecordExtensionBytes : 0);
  std::vector<uint8_t> out(header + r.id.size() + r.patient_id.size() + body.size() + (extended ? mask.size() : 0), 0);
  out[0] = extended ? kRecordVersionVolume : kRecordVersion;
  out[1] = static_cast<uint8_t>(compression);
  out[2] = static_cast<uint8_t>(r.encoding);
  out[3] = r.has_window ? 1 : 0;
  put<uint32_t>(out, 4, r.rows);
  put<uint32_t>(out, 8, r.cols);
  put<uint16_t>(out, 12, static_cast<uint16_t>(r.id.size()));
  put<uint16_t>(out, 14, static_cast<uint16_t>(r.patient_id.size()));
  put<int64_t>(out, 16, r.label);
  put<double>(out, 24, r.slope);
  put<double>(out, 32, r.intercept);
  put<double>(out, 40, r.window_center);
  put<double>(out, 48, r.window_width);
  put<uint32_t>(out, 56, static_cast<uint32_t>(body.size()));
  put<uint32_t>(out, 60, static_cast<uint32_t>(r.pixels.size()));
  if (extended) {  // depth, mask rank, mask d/r/c, mask stored and raw bytes, 0, spacing z/y/x
    const size_t x = kRecordHeaderBytes;
    for (int k = 0; k < 3; ++k) put<double>(out, x + 32 + 8 * k, r.spacing[k]);
    const size_t rank = r.mask_shape.size();
    put<uint32_t>(out, x, r.depth);
    put<uint32_t>(out, x + 4, static_cast<uint32_t>(rank));
    put<uint32_t>(out, x + 8, rank == 3 ? r.mask_shape[0] : 1);
    put<uint32_t>(out, x + 12, rank >= 2 ? r.mask_shape[rank - 2] : 0);
    put<uint32_t>(out, x + 16, rank >= 2 ? r.mask_shape[rank - 1] : 0);
    put<uint32_t>(out, x + 20, static_cast<uint32_t>(mask.size()));
    put<uint32_t>(out, x + 24, static_cast<uint32_t>(r.mask.size()));
  }
  size_t at = header;
  for (const auto* part : {&r.id, &r.patient_id}) {
    std::memcpy(out.data() + at, part->data(), part->size());
    at += part->size();
  }
  if (!body.empty()) std::memcpy(out.data() + at, body.data(), body.size());
  at += body.size();
  if (extended && !mask.empty()) std::memcpy(out.data() + at, mask.data(), mask.size());
  return out;
}

Record decode_record(const uint8_t* d, size_t size, const std::string& where) {
  auto bad = [&](const std::string& what) { throw DataError(where + ": " + what); };
  if (size < kRecordHeaderBytes) bad("record of " + std::to_string(size) + " bytes is shorter than its header");
  if (d[0] != kRecordVersion && d[0] != kRecordVersionVolume) bad("unknown record version " + std::to_string(d[0]));
  const bool extended = d[0] == kRecordVersionVolume;
  const size_t header = kRecordHeaderBytes + (extended ? kRecordExtensionBytes : 0);
  if (size < header) bad("record of " + std::to_string(size) + " bytes is shorter than its header");
  if (d[1] > 1) bad("unknown compression " + std::to_string(d[1]));
  if (d[2] > 2) bad("unknown pixel encoding " + std::to_string(d[2]));
  Record r;
  r.encoding = static_cast<PixelEncoding>(d[2]);
  r.has_window = (d[3] & 1) != 0;
  r.rows = get<uint32_t>(d + 4);
  r.cols = get<uint32_t>(d + 8);
  const size_t id_len = get<uint16_t>(d + 12), patient_len = get<uint16_t>(d + 14);
  r.label = get<int64_t>(d + 16);
  r.slope = get<double>(d + 24);
  r.intercept = get<double>(d + 32);
  r.window_center = get<double>(d + 40);
  r.window_width = get<double>(d + 48);
  const size_t stored = get<uint32_t>(d + 56), raw = get<uint32_t>(d + 60);
  size_t mask_stored = 0, mask_raw = 0;
  if (extended) {
    const uint8_t* x = d + kRecordHeaderBytes;
    r.depth = get<uint32_t>(x);
    const uint32_t rank = get<uint32_t>(x + 4);
    if (rank != 0 && rank != 2 && rank != 3) bad("bad mask rank " + std::to_string(rank));
    if (rank == 3) r.mask_shape.push_back(get<uint32_t>(x + 8));
    if (rank >= 2) r.mask_shape.insert(r.mask_shape.end(), {get<uint32_t>(x + 12), get<uint32_t>(x + 16)});
    mask_stored = get<uint32_t>(x + 20);
    mask_raw = get<uint32_t>(x + 24);
    for (int k = 0; k < 3; ++k) {
      r.spacing[k] = get<double>(x + 32 + 8 * k);
      if (!(r.spacing[k] >= 0 && r.spacing[k] < 1e6)) bad("bad voxel spacing " + std::to_string(r.spacing[k]));
    }
    const uint64_t voxels = mask_voxels(r.mask_shape);
    if (rank != 0 && (voxels == 0 || voxels > kMaxPixels)) bad("bad mask size");
    if (mask_raw != voxels) bad("mask byte count " + std::to_string(mask_raw) + " does not match the mask size");
  }
  const uint64_t pixels = static_cast<uint64_t>(r.rows) * r.cols;
  if (pixels == 0 || pixels > kMaxPixels || r.depth == 0 || pixels * r.depth > kMaxPixels) {
    bad("bad image size " + std::to_string(r.depth) + "x" + std::to_string(r.rows) + "x" + std::to_string(r.cols));
  }
  if (raw != pixels * r.depth * bytes_per_value(r.encoding)) bad("pixel byte count " + std::to_string(raw) + " does not match the image size");
  if (header + id_len + patient_len + stored + mask_stored != size) bad("record lengths do not add up to its size");
  if (r.label < 0) bad("negative label " + std::to_string(r.label));
  // Bounded like a DICOM file's rescale (Note [Finite modality values] in
  // data/dicom/dicom_header.cpp): every linear value q * slope + intercept, |q| <=
  // 65535, is then finite in float32, and so is windowing. A width <= 0 is
  // ignored when reading (packs made before the DICOM check may hold one).
  const auto huge = [](double x) { return !(std::abs(x) <= 1e30); };
  if (huge(r.slope) || huge(r.intercept)) bad("rescale slope or intercept is NaN, infinite or beyond 1e30");
  if (r.has_window && (huge(r.window_center) || huge(r.window_width) ||
                       (r.window_width > 0 && r.window_width < 1e-30))) {
    bad("window center or width is NaN, infinite or out of range");
  }
  const uint8_t* p = d + header;
  r.id.assign(reinterpret_cast<const char*>(p), id_len);
  r.patient_id.assign(reinterpret_cast<const char*>(p + id_len), patient_len);
  p += id_len + patient_len;
  const bool zstd = d[1] == static_cast<uint8_t>(Compression::kZstd);
  r.pixels = decompress(p, stored, raw, zstd, "pixel", bad);
  if (mask_raw > 0) r.mask = decompress(p + stored, mask_stored, mask_raw, zstd, "mask", bad);
  return r;
}

std::vector<uint8_t> encode_index(const std::vector<IndexEntry>& entries, uint64_t index_offset) {
  std::vector<uint8_t> out(entries.size() * kIndexEntryBytes + kFooterBytes, 0);
  for (size_t i = 0; i < entries.size(); ++i) {
    const size_t at = i * kIndexEntryBytes;
    put<uint64_t>(out, at, entries[i].offset);
    put<uint32_t>(out, at + 8, entries[i].length);
    put<uint32_t>(out, at + 12, entries[i].crc32c);
    put<int64_t>(out, at + 16, entries[i].label);
  }
  const size_t f = entries.size() * kIndexEntryBytes;
  put<uint64_t>(out, f, entries.size());
  put<uint64_t>(out, f + 8, index_offset);
  put<uint32_t>(out, f + 16, crc32c(out.data(), f));
  std::memcpy(out.data() + f + 24, kFooterMagic, 8);
  return out;
}

uint64_t index_bytes_from_footer(const uint8_t* footer, uint64_t file_size, const std::string& where) {
  const uint64_t min_size = sizeof(kShardMagic) + kFooterBytes;
  if (file_size < min_size || std::memcmp(footer + 24, kFooterMagic, 8) != 0) {
    throw DataError(where + ": truncated or not a shard (" + std::to_string(file_size) +
                    " bytes, no index footer at the end); re-run `medtrain pack`");
  }
  const uint64_t n = get<uint64_t>(footer), index_offset = get<uint64_t>(footer + 8);
  if (n > (file_size - min_size) / kIndexEntryBytes || index_offset < sizeof(kShardMagic) ||
      index_offset + n * kIndexEntryBytes + kFooterBytes != file_size) {
    throw DataError(where + ": index footer (" + std::to_string(n) + " records at offset " +
                    std::to_string(index_offset) + ") does not fit the file of " + std::to_string(file_size) +
                    " bytes; the shard is truncated or corrupt");
  }
  return n * kIndexEntryBytes + kFooterBytes;
}

std::vector<IndexEntry> decode_index(const uint8_t* tail, size_t tail_size, uint64_t file_size,
                                     const std::string& where) {
  if (tail_size < kFooterBytes) throw DataError(where + ": truncated index");
  const uint8_t* footer = tail + tail_size - kFooterBytes;
  const uint64_t need = index_bytes_from_footer(footer, file_size, where);
  if (tail_size < need) throw DataError(where + ": truncated index");
  const uint8_t* index = tail + tail_size - need;
  const uint64_t n = get<uint64_t>(footer), index_offset = get<uint64_t>(footer + 8);
  if (crc32c(index, n * kIndexEntryBytes) != get<uint32_t>(footer + 16)) {
    throw DataError(where + ": index checksum mismatch (the index at offset " + std::to_string(index_offset) +
                    " is corrupt); re-run `medtrain pack`");
  }
  std::vector<IndexEntry> entries(n);
  for (uint64_t i = 0; i < n; ++i) {
    IndexEntry& e = entries[i];
    const uint8_t* p = index + i * kIndexEntryBytes;
    e.offset = get<uint64_t>(p);
    e.length = get<uint32_t>(p + 8);
    e.crc32c = get<uint32_t>(p + 12);
    e.label = get<int64_t>(p + 16);
    if (e.offset < sizeof(kShardMagic) || e.offset > index_offset || e.length > index_offset - e.offset) {
      throw DataError(where + ": index entry " + std::to_string(i) + " (offset " + std::to_string(e.offset) +
                      ", length " + std::to_string(e.length) + ") points past the end of the records at " +
                      std::to_string(index_offset));
    }
  }
  return entries;
}

}  // namespace medtrain::data::shard
