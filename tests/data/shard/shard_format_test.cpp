// Record and index encoding: round trips for every pixel encoding and
// compression, the choice of encoding, and clear errors for malformed bytes.
#include "data/shard/shard_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "data/data_error.h"
#include "data/shard/crc32c.h"

namespace medtrain::data::shard {
namespace {

std::vector<float> ct_values(size_t n, double slope, double intercept) {
  std::mt19937 rng(3);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(static_cast<double>(rng() % 4096) * slope + intercept);
  return v;
}

void expect_round_trip(const std::vector<float>& values, uint32_t rows, uint32_t cols, double slope,
                       double intercept, PixelEncoding expected) {
  Record r;
  r.id = "images/P1/slice_001.dcm";
  r.patient_id = "P1";
  r.label = 3;
  r.has_window = true;
  r.window_center = -600;
  r.window_width = 1500;
  set_pixels(r, values.data(), rows, cols, slope, intercept);
  EXPECT_EQ(r.encoding, expected);
  for (const auto c : {Compression::kNone, Compression::kZstd}) {
    const auto bytes = encode_record(r, c);
    const Record back = decode_record(bytes.data(), bytes.size(), "test");
    EXPECT_EQ(back.id, r.id);
    EXPECT_EQ(back.patient_id, "P1");
    EXPECT_EQ(back.label, 3);
    EXPECT_TRUE(back.has_window);
    EXPECT_EQ(back.window_center, -600);
    EXPECT_EQ(back.window_width, 1500);
    std::vector<float> out(values.size());
    decode_pixels(back, out.data());
    // Bit for bit: the encoding must be lossless.
    EXPECT_EQ(std::memcmp(out.data(), values.data(), values.size() * 4), 0);
  }
}

TEST(ShardFormat, CtStoredValuesPackAsInt16) {
  expect_round_trip(ct_values(12 * 7, 1.0, -1024.0), 12, 7, 1.0, -1024.0, PixelEncoding::kInt16Linear);
}

TEST(ShardFormat, FractionalSlopeStaysExact) {
  expect_round_trip(ct_values(64, 0.37, -12.5), 8, 8, 0.37, -12.5, PixelEncoding::kInt16Linear);
}

TEST(ShardFormat, LargeUnsignedValuesUseUint16) {
  std::vector<float> v(16);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(60000 + i);
  expect_round_trip(v, 4, 4, 1.0, 0.0, PixelEncoding::kUint16Linear);
}

TEST(ShardFormat, NonLinearValuesFallBackToFloat32) {
  std::vector<float> v(20);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.1f * static_cast<float>(i * i) + 0.013f;  // luma-like
  expect_round_trip(v, 4, 5, 1.0, 0.0, PixelEncoding::kFloat32);
}

// decode_record refuses `bytes` with a DataError naming `where` and saying `needle`.
void expect_record_error(const std::vector<uint8_t>& bytes, const std::string& where, const std::string& needle) {
  try {
    decode_record(bytes.data(), bytes.size(), where);
    FAIL() << "no error for " << needle;
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(ShardFormat, MalformedRecordsAreDataErrors) {
  Record r;
  r.id = "a.dcm";
  const auto v = ct_values(16, 1, 0);
  set_pixels(r, v.data(), 4, 4, 1, 0);
  const auto good = encode_record(r, Compression::kZstd);
  const auto expect_error = [](const std::vector<uint8_t>& bytes, const std::string& needle) {
    expect_record_error(bytes, "shard.x: record 7", needle);
  };
  expect_error(std::vector<uint8_t>(good.begin(), good.begin() + 10), "shorter than its header");
  expect_error(std::vector<uint8_t>(good.begin(), good.end() - 1), "do not add up");
  auto v2 = good;
  v2[0] = 9;
  expect_error(v2, "unknown record version");
  auto huge = good;
  const uint32_t big = 1u << 30;
  std::memcpy(huge.data() + 4, &big, 4);
  std::memcpy(huge.data() + 8, &big, 4);
  expect_error(huge, "bad image size");
  auto z = good;
  z[kRecordHeaderBytes + 5 + 2] ^= 0xFF;  // inside the zstd frame (after id "a.dcm")
  expect_error(z, "zstd");
}

// A volume with a mask is a version 2 record; everything comes back, compressed
// or not. A 2D record without a mask stays version 1 (packs made before
// volumes read the same).
TEST(ShardFormat, VolumeAndMaskRoundTripAsVersion2) {
  Record r;
  r.id = "series/P1";
  r.patient_id = "P1";
  r.depth = 3;
  const auto v = ct_values(3 * 4 * 5, 1, -1024);
  set_pixels(r, v.data(), 4, 5, 1, -1024);
  r.spacing = {2.5, 0.7, 0.65};
  r.mask_shape = {3, 2, 5};  // masks keep their own size
  for (uint8_t i = 0; i < 30; ++i) r.mask.push_back(static_cast<uint8_t>(i % 7));
  for (const Compression c : {Compression::kNone, Compression::kZstd}) {
    const auto bytes = encode_record(r, c);
    EXPECT_EQ(bytes[0], kRecordVersionVolume);
    const Record back = decode_record(bytes.data(), bytes.size(), "v.shard: record 0");
    EXPECT_EQ(back.depth, 3u);
    EXPECT_EQ(back.rows, 4u);
    EXPECT_EQ(back.cols, 5u);
    EXPECT_EQ(back.mask_shape, r.mask_shape);
    EXPECT_EQ(back.mask, r.mask);
    EXPECT_EQ(back.spacing, r.spacing);
    EXPECT_EQ(back.id, r.id);
    EXPECT_EQ(back.patient_id, r.patient_id);
    std::vector<float> out(v.size());
    decode_pixels(back, out.data());
    EXPECT_EQ(out, v);
  }
  Record flat;
  flat.id = "a.dcm";
  set_pixels(flat, v.data(), 4, 5, 1, -1024);
  EXPECT_EQ(encode_record(flat, Compression::kZstd)[0], kRecordVersion);
  flat.mask_shape = {4, 5};
  flat.mask.assign(20, 1);
  const auto masked = encode_record(flat, Compression::kNone);
  EXPECT_EQ(masked[0], kRecordVersionVolume);  // a 2D image with a mask
  EXPECT_EQ(decode_record(masked.data(), masked.size(), "m").mask, flat.mask);
}

TEST(ShardFormat, MalformedVersion2RecordsAreDataErrors) {
  Record r;
  r.id = "s";
  r.depth = 2;
  const auto v = ct_values(2 * 4 * 4, 1, 0);
  set_pixels(r, v.data(), 4, 4, 1, 0);
  r.mask_shape = {2, 4, 4};
  r.mask.assign(32, 1);
  const auto good = encode_record(r, Compression::kNone);
  const auto expect_error = [](const std::vector<uint8_t>& bytes, const std::string& needle) {
    expect_record_error(bytes, "shard.y: record 3", needle);
  };
  auto put32 = [](std::vector<uint8_t> b, size_t at, uint32_t x) {
    std::memcpy(b.data() + at, &x, 4);
    return b;
  };
  const size_t x = kRecordHeaderBytes;
  expect_error(std::vector<uint8_t>(good.begin(), good.begin() + kRecordHeaderBytes + 8), "shorter than its header");
  expect_error(put32(good, x, 0), "bad image size");            // depth 0
  expect_error(put32(good, x, 1u << 25), "bad image size");     // 2^25 slices of 4x4: past the voxel limit
  expect_error(put32(good, x, 3), "pixel byte count");          // depth no longer matches the bytes
  expect_error(put32(good, x + 4, 5), "bad mask rank");
  expect_error(put32(good, x + 8, 3), "mask byte count");       // mask depth no longer matches its bytes
  expect_error(put32(good, x + 24, 33), "mask byte count");
  expect_error(put32(good, x + 20, 31), "do not add up");
  auto nan_spacing = good;
  const double nan = std::nan("");
  std::memcpy(nan_spacing.data() + x + 40, &nan, 8);
  expect_error(nan_spacing, "bad voxel spacing");
  r.mask.pop_back();
  EXPECT_THROW(encode_record(r, Compression::kNone), DataError);  // shape and bytes disagree
}

TEST(ShardFormat, IndexRoundTripAndErrors) {
  std::vector<IndexEntry> entries = {{8, 100, 1, 0}, {108, 50, 2, 1}};
  const uint64_t index_offset = 158;
  const auto tail = encode_index(entries, index_offset);
  const uint64_t file_size = index_offset + tail.size();
  const auto back = decode_index(tail.data(), tail.size(), file_size, "f.shard");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].offset, 108u);
  EXPECT_EQ(back[1].length, 50u);
  EXPECT_EQ(back[1].crc32c, 2u);
  EXPECT_EQ(back[1].label, 1);

  auto expect_error = [&](const std::vector<uint8_t>& t, uint64_t size, const std::string& needle) {
    try {
      decode_index(t.data(), t.size(), size, "f.shard");
      FAIL() << "no error for " << needle;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("f.shard"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(tail, file_size + 1, "does not fit");
  auto no_magic = tail;
  no_magic.back() = 'X';
  expect_error(no_magic, file_size, "truncated or not a shard");
  auto flipped = tail;
  flipped[3] ^= 1;
  expect_error(flipped, file_size, "index checksum mismatch");
  // An entry past the records (with a valid index checksum): named by number.
  auto past = encode_index({{8, 100, 1, 0}, {108, 51, 2, 1}}, index_offset);
  expect_error(past, file_size, "index entry 1 (offset 108, length 51) points past the end");
}

}  // namespace
}  // namespace medtrain::data::shard
