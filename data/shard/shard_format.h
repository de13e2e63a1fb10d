#pragma once
// The bytes of a shard file (docs/shards.md has the full layout and the why).
// Torch-free, so that the fuzzer (tests/fuzz/shard_reader_fuzz.cpp) builds it
// with sanitizers and no LibTorch.
//
//   shard   = "MTSHARD1" record* index footer
//   index   = n x { u64 offset, u32 length, u32 crc32c, i64 label }   (offset from file start;
//             the label is there so a dataset knows every label without reading records)
//   footer  = u64 n, u64 index_offset, u32 crc32c(index), u32 0, "MTSHIDX1"   (32 bytes)
//   record  = header(64 bytes) id patient_id payload                     version 1
//           | header(64 bytes) extension(56 bytes) id patient_id payload mask_payload
//                                                                        version 2
//   (all little-endian)
//
// A record holds one sample after the modality LUT, before window/resize:
// pixels as int16/uint16 stored values q with value = float(q * slope + intercept)
// (checked to be bit-exact at pack time) or as raw float32 when no such q exists.
// Version 2 (written only when needed, so 2D class packs stay version 1) adds
// the depth of a volume and a segmentation mask: one uint8 class index per
// voxel, at the mask file's own size, compressed like the pixels.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::shard {

inline constexpr char kShardMagic[8] = {'M', 'T', 'S', 'H', 'A', 'R', 'D', '1'};
inline constexpr char kFooterMagic[8] = {'M', 'T', 'S', 'H', 'I', 'D', 'X', '1'};
inline constexpr size_t kFooterBytes = 32;
inline constexpr size_t kIndexEntryBytes = 24;
inline constexpr size_t kRecordHeaderBytes = 64;
inline constexpr uint8_t kRecordVersion = 1;        // a 2D image and its label
inline constexpr uint8_t kRecordVersionVolume = 2;  // + depth and mask (the extension)
inline constexpr size_t kRecordExtensionBytes = 56;
// Refuse records promising more than this many pixels, or voxels for a volume
// (a corrupt header must not make us allocate gigabytes): 16384 x 16384.
inline constexpr uint64_t kMaxPixels = 16384ull * 16384ull;

enum class Compression : uint8_t { kNone = 0, kZstd = 1 };
enum class PixelEncoding : uint8_t { kInt16Linear = 0, kUint16Linear = 1, kFloat32 = 2 };

struct Record {
  std::string id;          // the manifest path (relative to the pack root)
  std::string patient_id;  // may be empty
  int64_t label = 0;
  uint32_t rows = 0, cols = 0;
  PixelEncoding encoding = PixelEncoding::kFloat32;
  double slope = 1.0, intercept = 0.0;      // for the linear encodings
  bool has_window = false;                  // the file's first WindowCenter/Width
  double window_center = 0, window_width = 0;
  uint32_t depth = 1;                       // slices of a volume; 1 for a 2D image
  std::array<double, 3> spacing{};          // volume voxel size in mm (z, y, x); 0 = unknown
  std::vector<uint8_t> pixels;              // depth*rows*cols values of `encoding`, uncompressed
  // Segmentation: class indices of mask_shape (empty for class/multilabel records).
  std::vector<uint32_t> mask_shape;         // {rows, cols} or {depth, rows, cols}
  std::vector<uint8_t> mask;
};

struct IndexEntry {
  uint64_t offset = 0;
  uint32_t length = 0;
  uint32_t crc32c = 0;
  int64_t label = 0;
};

// Chooses the most compact exact encoding for `values` (record.depth*rows*cols
// floats: set depth first for a volume).
void set_pixels(Record& record, const float* values, uint32_t rows, uint32_t cols, double slope,
                double intercept);
// The float modality values of a record: depth*rows*cols floats into `out`.
// Throws DataError("<where>: ...") when float32 values hold NaN or infinity
// (checked while copying; the linear encodings are bounded by decode_record's
// check of slope and intercept).
void decode_pixels(const Record& record, float* out, const std::string& where = "shard record");

std::vector<uint8_t> encode_record(const Record& record, Compression compression, int zstd_level = 3);
// Throws DataError("<where>: ...") for any malformed byte string; never reads
// outside [data, data + size).
Record decode_record(const uint8_t* data, size_t size, const std::string& where);

std::vector<uint8_t> encode_index(const std::vector<IndexEntry>& entries, uint64_t index_offset);
// Parses the index of a shard of `file_size` bytes from its tail (`tail` holds
// the last tail_size bytes). Throws DataError naming `where`: a truncated or
// foreign file, a bad index checksum, an entry past the end of the records.
std::vector<IndexEntry> decode_index(const uint8_t* tail, size_t tail_size, uint64_t file_size,
                                     const std::string& where);
// Bytes of the tail decode_index needs for a file: footer first, then this.
uint64_t index_bytes_from_footer(const uint8_t* footer, uint64_t file_size, const std::string& where);

}  // namespace medtrain::data::shard
