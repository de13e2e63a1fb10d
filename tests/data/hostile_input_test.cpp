// Hostile and careless data input (issue 21): non-finite or absurd rescale and
// window values, empty Pixel Data, FIFOs in place of files, labels past the
// model's classes, 1 MB paths. Each case is a DataError naming the file (and
// line) and the attribute at fault, never NaN pixels or a blocked read.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/dicom/dicom_dataset.h"
#include "data/dicom/dicom_image.h"
#include "data/manifest.h"
#include "data/dicom/mask_file.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

using testing::RawDicom;
using testing::TempDir;
using testing::write_raw_dicom;

using testing::error_of;

void expect_parts(const std::string& msg, const std::vector<std::string>& parts) {
  for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
}

RawDicom ramp(int bits = 16) {
  RawDicom r;
  r.bits_allocated = bits;
  r.bits_stored = bits;
  for (int i = 0; i < r.rows * r.cols; ++i) r.values.push_back(static_cast<uint16_t>(i * 10));
  return r;
}

std::string decode_error(const TempDir& dir, const std::string& name, const RawDicom& r) {
  const std::string path = dir.str(name);
  write_raw_dicom(path, r);
  return error_of([&] { read_dicom_image(path); });
}

struct BadValue {
  std::string slope, intercept, center, width;
  std::vector<std::string> parts;  // expected in the message
};

TEST(HostileDicom, NonFiniteOrAbsurdRescaleAndWindowAreErrorsNamingTheAttribute) {
  TempDir dir;
  const std::vector<BadValue> cases = {
      {"NaN", "", "", "", {"RescaleSlope (0028,1053) is NaN"}},
      {"INF", "", "", "", {"RescaleSlope (0028,1053) is infinite"}},
      {"-INF", "", "", "", {"RescaleSlope (0028,1053) is infinite"}},
      {"0", "", "", "", {"RescaleSlope (0028,1053) is 0"}},
      {"abc", "", "", "", {"RescaleSlope (0028,1053) is not a number"}},
      {"", "NaN", "", "", {"RescaleIntercept (0028,1052) is NaN"}},
      {"", "-INF", "", "", {"RescaleIntercept (0028,1052) is infinite"}},
      // 1e308 * 65535 overflows double; 1e38 * 65535 is finite in double but
      // not in float32: both beyond the range every pixel must fit.
      {"1e308", "", "", "", {"RescaleSlope (0028,1053) and RescaleIntercept (0028,1052)", "float32 range"}},
      {"1e38", "", "", "", {"float32 range"}},
      {"1", "-1e35", "", "", {"float32 range"}},
      {"", "", "NaN", "400", {"WindowCenter (0028,1050) is NaN"}},
      {"", "", "40", "NaN", {"WindowWidth (0028,1051) is NaN"}},
      {"", "", "40", "0", {"WindowWidth (0028,1051) is not positive"}},
      {"", "", "40", "-5", {"WindowWidth (0028,1051) is not positive"}},
      {"", "", "40", "1e-300", {"WindowWidth (0028,1051) is out of range"}},
      {"", "", "1e300", "400", {"WindowCenter (0028,1050) is beyond float32 range"}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const BadValue& c = cases[i];
    RawDicom r = ramp();
    r.slope = c.slope, r.intercept = c.intercept, r.window_center = c.center, r.window_width = c.width;
    const std::string name = "bad" + std::to_string(i) + ".dcm";
    const std::string msg = decode_error(dir, name, r);
    SCOPED_TRACE(msg);
    expect_parts(msg, c.parts);
    expect_parts(msg, {dir.str(name)});
    // The header-only reader (inspect of a series, the packer) refuses it too.
    EXPECT_EQ(error_of([&] { read_dicom_info(dir.str(name)); }), msg);
  }
}

TEST(HostileDicom, LargeButFiniteScalingDecodesToFiniteValues) {
  // The bound is the value range, not the slope alone: 8-bit values times
  // 1e27 stay below 1e30, and every decoded value is finite and exact to
  // double-then-float rounding (reference: the same arithmetic in double).
  TempDir dir;
  RawDicom r = ramp(8);
  r.slope = "1e27";
  r.intercept = "-5e26";
  r.window_center = "0";
  r.window_width = "1e28";
  write_raw_dicom(dir.str("big.dcm"), r);
  const DicomImage img = read_dicom_image(dir.str("big.dcm"));
  ASSERT_TRUE(torch::isfinite(img.pixels).all().item<bool>());
  const float* p = img.pixels.data_ptr<float>();
  for (size_t i = 0; i < r.values.size(); ++i) {
    EXPECT_EQ(p[i], static_cast<float>((r.values[i] & 0xff) * 1e27 - 5e26)) << i;
  }
  // And through windowing and normalisation, as a training sample.
  DicomDatasetOptions o;
  o.window_center = *img.info.window_center;
  o.window_width = *img.info.window_width;
  const torch::Tensor x = preprocess_hu(img.pixels[0], o);
  EXPECT_TRUE(torch::isfinite(x).all().item<bool>());
}

TEST(HostileDicom, EmptyPixelDataIsNamed) {
  TempDir dir;
  RawDicom r = ramp();
  r.values.clear();  // a zero-length (7FE0,0010)
  const std::string msg = decode_error(dir, "empty.dcm", r);
  expect_parts(msg, {dir.str("empty.dcm"), "Pixel Data (7FE0,0010) is empty"});
  EXPECT_EQ(msg.find("Normal"), std::string::npos) << msg;
}

// Runs f on a thread; if it has not returned after `limit`, unblocks a reader
// stuck on the FIFO by opening and closing its write end (so the test ends
// either way) and fails. Not a timing assertion: the limit only bounds a hang.
std::string error_without_blocking(const std::string& fifo, const std::function<void()>& f) {
  auto result = std::async(std::launch::async, [&] { return error_of(f); });
  if (result.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "blocked on the FIFO " << fifo;
    const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
  }
  return result.get();
}

TEST(HostileFiles, FifoInPlaceOfDicomManifestOrMaskIsRefusedWithoutBlocking) {
  TempDir dir;
  for (const std::string name : {"x.dcm", "manifest.csv", "mask.npy", "mask.dcm"}) {
    ASSERT_EQ(::mkfifo(dir.str(name).c_str(), 0600), 0);
  }
  std::string msg = error_without_blocking(dir.str("x.dcm"), [&] { read_dicom_image(dir.str("x.dcm")); });
  expect_parts(msg, {"DICOM file", dir.str("x.dcm"), "a FIFO"});
  msg = error_without_blocking(dir.str("x.dcm"), [&] { read_dicom_info(dir.str("x.dcm")); });
  expect_parts(msg, {dir.str("x.dcm"), "a FIFO"});
  ManifestOptions m;
  m.manifest_path = dir.str("manifest.csv");
  msg = error_without_blocking(m.manifest_path, [&] { read_manifest(m); });
  expect_parts(msg, {"manifest", m.manifest_path, "a FIFO"});
  msg = error_without_blocking(dir.str("mask.npy"), [&] { read_mask(dir.str("mask.npy"), false, 2); });
  expect_parts(msg, {dir.str("mask.npy"), "a FIFO"});
  msg = error_without_blocking(dir.str("mask.dcm"), [&] { read_mask(dir.str("mask.dcm"), false, 2); });
  expect_parts(msg, {dir.str("mask.dcm"), "a FIFO"});
}

TEST(HostileFiles, HugePathIsShortenedInMessages) {
  TempDir dir;
  const std::string huge = dir.str(std::string(200, 'a')) + std::string(1 << 20, 'b') + ".dcm";
  for (const std::string& msg :
       {error_of([&] { read_dicom_image(huge); }), error_of([&] { read_mask(huge + ".npy", false, 2); }),
        error_of([&] {
          ManifestOptions m;
          m.manifest_path = huge + ".csv";
          read_manifest(m);
        })}) {
    EXPECT_NE(msg, "(no error)");
    EXPECT_LT(msg.size(), 400u) << msg.substr(0, 400);
    EXPECT_NE(msg.find("..."), std::string::npos) << msg.substr(0, 400);
  }
}

// A manifest of `rows` (CSV text after the header) in dir; no files needed.
DicomDatasetOptions manifest_options(const TempDir& dir, const std::string& header, const std::string& rows,
                                     TargetKind target, int64_t num_classes) {
  dir.write("m.csv", header + "\n" + rows);
  DicomDatasetOptions o;
  o.manifest = dir.str("m.csv");
  o.check_files = false;
  o.target = target;
  o.num_classes = num_classes;
  return o;
}

TEST(HostileLabels, ClassLabelPastNumClassesNamesManifestLine) {
  TempDir dir;
  auto o = manifest_options(dir, "path,label,split", "a.dcm,0,train\nb.dcm,1,train\nc.dcm,7,val\n",
                            TargetKind::kClass, 2);
  // Every split is checked at open (the val row too, before any step).
  for (const std::string split : {"", "val"}) {
    o.split = split;
    const std::string msg = error_of([&] { open_dicom_dataset(o); });
    expect_parts(msg, {dir.str("m.csv") + ":4", "label 7", "model.num_classes 2", "0..1"});
  }
  o.split = "train";  // the bad row is not in this split: fine
  EXPECT_EQ(open_dicom_dataset(o)->size(), 2u);
  o.split = "";
  o.num_classes = 8;  // within range
  EXPECT_EQ(open_dicom_dataset(o)->size(), 3u);
  o.num_classes = 0;  // 0 = unchecked (inference, tools)
  EXPECT_EQ(open_dicom_dataset(o)->size(), 3u);
}

TEST(HostileLabels, MultilabelBitPastNumClassesNamesManifestLine) {
  TempDir dir;
  const auto o = manifest_options(dir, "path,labels", "a.dcm,0|1\nb.dcm,2\n", TargetKind::kMultiLabel, 2);
  expect_parts(error_of([&] { open_dicom_dataset(o); }), {dir.str("m.csv") + ":3", "past the 2 labels"});
}

TEST(HostileLabels, MaskClassPastNumClassesNamesTheMaskFile) {
  TempDir dir;
  RawDicom r = ramp();
  for (auto& v : r.values) v = static_cast<uint16_t>(v % 3);  // classes 0..2
  write_raw_dicom(dir.str("mask.dcm"), r);
  expect_parts(error_of([&] { read_mask(dir.str("mask.dcm"), false, 2); }),
               {dir.str("mask.dcm"), "mask holds class 2", "model.num_classes is 2"});
  EXPECT_EQ(read_mask(dir.str("mask.dcm"), false, 3).max().item<int64_t>(), 2);
}

// Bit depths (issue 18): BitsStored beyond BitsAllocated, and Pixel Data shorter
// than rows x columns x frames x samples x BitsAllocated bits, for packed
// 1-bit, 32-bit and float data. One DataError naming the file and the tags.
TEST(HostileDicom, BitsStoredAboveBitsAllocatedIsNamed) {
  TempDir dir;
  for (const int allocated : {8, 16, 32}) {
    RawDicom r = ramp(allocated);
    r.bits_stored = allocated + 1;
    r.high_bit = allocated;
    const std::string name = "stored" + std::to_string(allocated) + ".dcm";
    const std::string msg = decode_error(dir, name, r);
    expect_parts(msg, {dir.str(name), "BitsStored (0028,0101) " + std::to_string(allocated + 1),
                       "BitsAllocated (0028,0100) " + std::to_string(allocated)});
  }
  RawDicom one = ramp(8);  // 1 bit allocated, 8 stored
  one.bits_allocated = 1, one.high_bit = 7;
  expect_parts(decode_error(dir, "one.dcm", one),
               {dir.str("one.dcm"), "BitsStored (0028,0101) 8", "BitsAllocated (0028,0100) 1"});
}

// Pixel Data bytes exactly as given (write_raw_dicom writes 16-bit words).
void write_pixel_bytes(const std::string& path, RawDicom r, const DcmTagKey& tag, const std::vector<Uint8>& bytes) {
  r.pixel_data = false;
  write_raw_dicom(path, r);
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(path.c_str()).good());
  DcmDataset* ds = file.getDataset();
  if (tag == DCM_PixelData) {
    ASSERT_TRUE(ds->putAndInsertUint8Array(tag, bytes.data(), static_cast<unsigned long>(bytes.size())).good());
  } else if (tag == DCM_FloatPixelData) {
    std::vector<Float32> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), v.size() * 4);
    ASSERT_TRUE(ds->putAndInsertFloat32Array(tag, v.data(), static_cast<unsigned long>(v.size())).good());
  } else {
    std::vector<Float64> v(bytes.size() / 8);
    std::memcpy(v.data(), bytes.data(), v.size() * 8);
    ASSERT_TRUE(ds->putAndInsertFloat64Array(tag, v.data(), static_cast<unsigned long>(v.size())).good());
  }
  ASSERT_TRUE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
}

TEST(HostileDicom, FramesShorterThanTheLayoutAreNamed) {
  TempDir dir;
  RawDicom bits1 = ramp(1);  // 3 frames of 4x4 = 48 bits = 6 bytes; give 4 (odd lengths get padded)
  bits1.frames = 3;
  write_pixel_bytes(dir.str("bits1.dcm"), bits1, DCM_PixelData, std::vector<Uint8>(4, 0xa5));
  expect_parts(error_of([&] { read_dicom_image(dir.str("bits1.dcm")); }),
               {dir.str("bits1.dcm"), "pixel data too short: 32 values", "BitsAllocated (0028,0100) 1", "4*4*3*1 = 48"});
  RawDicom b32 = ramp(32);  // 2 frames of 4x4 x 4 bytes = 128; give one frame
  b32.frames = 2;
  write_pixel_bytes(dir.str("b32.dcm"), b32, DCM_PixelData, std::vector<Uint8>(64, 1));
  expect_parts(error_of([&] { read_dicom_image(dir.str("b32.dcm")); }),
               {dir.str("b32.dcm"), "pixel data too short: 16 values", "BitsAllocated (0028,0100) 32", "= 32"});
  RawDicom f = ramp(32);
  write_pixel_bytes(dir.str("f32.dcm"), f, DCM_FloatPixelData, std::vector<Uint8>(60, 0));
  expect_parts(error_of([&] { read_dicom_image(dir.str("f32.dcm")); }),
               {dir.str("f32.dcm"), "pixel data too short", "Float Pixel Data (7FE0,0008) holds 15 values", "= 16"});
  RawDicom d = ramp(64);
  write_pixel_bytes(dir.str("f64.dcm"), d, DCM_DoubleFloatPixelData, std::vector<Uint8>(8, 0));
  expect_parts(error_of([&] { read_dicom_image(dir.str("f64.dcm")); }),
               {dir.str("f64.dcm"), "Double Float Pixel Data (7FE0,0009) holds 1 values"});
}

// Float pixels can hold NaN and infinity, which no stored word can: refused
// with the index (never the value), as Note [Finite modality values] promises.
TEST(HostileDicom, NonFiniteFloatPixelsAreNamed) {
  TempDir dir;
  const RawDicom f = ramp(32);
  for (const float bad : {std::nanf(""), INFINITY, -3e38f}) {
    std::vector<float> v(16, 1.5f);
    v[5] = bad;
    std::vector<Uint8> bytes(64);
    std::memcpy(bytes.data(), v.data(), 64);
    write_pixel_bytes(dir.str("nan.dcm"), f, DCM_FloatPixelData, bytes);
    expect_parts(error_of([&] { read_dicom_image(dir.str("nan.dcm")); }),
                 {dir.str("nan.dcm"), "Float Pixel Data (7FE0,0008) value 5 is NaN, infinite or beyond 1e30"});
  }
  const RawDicom wrong = ramp(16);  // Float Pixel Data must have 32 bits allocated
  write_pixel_bytes(dir.str("wrong.dcm"), wrong, DCM_FloatPixelData, std::vector<Uint8>(64, 0));
  expect_parts(error_of([&] { read_dicom_image(dir.str("wrong.dcm")); }),
               {dir.str("wrong.dcm"), "unsupported BitsAllocated 16 (0028,0100) for Float/Double Float Pixel Data"});
}

}  // namespace
}  // namespace medtrain::data
