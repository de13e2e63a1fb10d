// read_dicom_image: bad inputs name the file and the problem; a few stored-value
// rules checked against values worked out by hand from PS3.3 C.7.6.3 (the
// bulk of the value checks is the pydicom parity test).
#include "data/dicom_image.h"

#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "data/data_error.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

using testing::RawDicom;
using testing::TempDir;
using testing::write_raw_dicom;

// Runs read_dicom_image, expecting a DataError whose message holds every `part`.
void expect_error(const std::string& path, const std::vector<std::string>& parts) {
  try {
    read_dicom_image(path);
    ADD_FAILURE() << "no error for " << path;
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

RawDicom ramp(int rows, int cols) {
  RawDicom r;
  r.rows = rows;
  r.cols = cols;
  for (int i = 0; i < rows * cols; ++i) r.values.push_back(static_cast<uint16_t>(i * 100));
  return r;
}

TEST(DicomImage, MissingFile) { expect_error("/nonexistent/medtrain/x.dcm", {"cannot open"}); }

TEST(DicomImage, RandomBytesAreNotDicom) {
  TempDir dir;
  std::mt19937_64 rng(5);
  std::string bytes;
  for (int i = 0; i < 4096; ++i) bytes += static_cast<char>(rng() & 0xff);
  testing::write_text(dir.path() / "noise.dcm", bytes);
  expect_error(dir.str("noise.dcm"), {"not a DICOM file"});
  testing::write_text(dir.path() / "text.dcm", "patient,label\nP1,1\n");
  expect_error(dir.str("text.dcm"), {"not a DICOM file"});
}

TEST(DicomImage, TruncatedFile) {
  TempDir dir;
  write_raw_dicom(dir.str("full.dcm"), ramp(64, 64));
  const auto size = std::filesystem::file_size(dir.path() / "full.dcm");
  std::filesystem::copy_file(dir.path() / "full.dcm", dir.path() / "cut.dcm");
  std::filesystem::resize_file(dir.path() / "cut.dcm", size / 2);
  expect_error(dir.str("cut.dcm"), {"truncated or corrupt"});
}

TEST(DicomImage, NoPixelData) {
  TempDir dir;
  RawDicom r = ramp(4, 4);
  r.pixel_data = false;
  write_raw_dicom(dir.str("nopix.dcm"), r);
  expect_error(dir.str("nopix.dcm"), {"no Pixel Data"});
}

TEST(DicomImage, PixelDataTooShort) {
  TempDir dir;
  RawDicom r = ramp(8, 8);
  r.frames = 2;  // claims 2*64 values, holds 64
  write_raw_dicom(dir.str("short.dcm"), r);
  expect_error(dir.str("short.dcm"), {"pixel data too short", "64 values", "128"});
}

TEST(DicomImage, UnsupportedPhotometric) {
  TempDir dir;
  RawDicom r = ramp(4, 4);
  r.photometric = "RGB";
  r.samples_per_pixel = 3;
  write_raw_dicom(dir.str("rgb.dcm"), r);
  expect_error(dir.str("rgb.dcm"), {"unsupported photometric interpretation 'RGB'"});
}

TEST(DicomImage, UnsupportedBitsAllocated) {
  TempDir dir;
  RawDicom r = ramp(2, 2);
  r.bits_allocated = 32;
  r.bits_stored = 32;
  write_raw_dicom(dir.str("b32.dcm"), r);
  expect_error(dir.str("b32.dcm"), {"BitsAllocated 32"});
}

// JPEG 2000 has no codec in plain DCMTK: the error names the syntax and its UID.
TEST(DicomImage, UnsupportedTransferSyntaxIsNamed) {
  TempDir dir;
  RawDicom r = ramp(4, 4);
  r.pixel_data = false;
  write_raw_dicom(dir.str("tmp.dcm"), r);
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(dir.str("tmp.dcm").c_str()).good());
  auto* seq = new DcmPixelSequence(DCM_PixelSequenceTag);
  seq->insert(new DcmPixelItem(DCM_PixelItemTag));  // empty offset table
  auto* fragment = new DcmPixelItem(DCM_PixelItemTag);
  Uint8 junk[8] = {0xff, 0x4f, 0xff, 0x51, 0, 0, 0, 0};
  fragment->putUint8Array(junk, 8);
  seq->insert(fragment);
  auto* pixels = new DcmPixelData(DCM_PixelData);
  pixels->putOriginalRepresentation(EXS_JPEG2000LosslessOnly, nullptr, seq);
  file.getDataset()->insert(pixels);
  ASSERT_TRUE(file.saveFile(dir.str("j2k.dcm").c_str(), EXS_JPEG2000LosslessOnly).good());
  expect_error(dir.str("j2k.dcm"), {"unsupported transfer syntax", "JPEG 2000", "1.2.840.10008.1.2.4.90"});
}

// HighBit above BitsStored-1: the value sits in the top bits and is shifted down.
TEST(DicomImage, HighBitShift) {
  TempDir dir;
  RawDicom r;
  r.rows = 1;
  r.cols = 3;
  r.bits_stored = 12;
  r.high_bit = 15;
  r.values = {0xFFF0, 0x0010, 0x800F};  // 4095, 1, 2048 (low nibble is not pixel data)
  write_raw_dicom(dir.str("hb.dcm"), r);
  const DicomImage img = read_dicom_image(dir.str("hb.dcm"));
  const float expected[] = {4095, 1, 2048};
  for (int i = 0; i < 3; ++i) EXPECT_EQ(img.pixels.view(-1)[i].item<float>(), expected[i]);
}

// MONOCHROME1 8-bit: v -> 255 - v; slope/intercept applied before reflecting
// inside the modality range [0*2+10, 255*2+10]; the window center follows.
TEST(DicomImage, Monochrome1IsReflectedWithWindow) {
  TempDir dir;
  RawDicom r;
  r.rows = 1;
  r.cols = 3;
  r.bits_allocated = r.bits_stored = 8;
  r.photometric = "MONOCHROME1";
  r.slope = "2";
  r.intercept = "10";
  r.window_center = "100";
  r.window_width = "50";
  r.values = {0, 1, 255};
  write_raw_dicom(dir.str("m1.dcm"), r);
  const DicomImage img = read_dicom_image(dir.str("m1.dcm"));
  const float expected[] = {520, 518, 10};  // (10 + 520) - (2v + 10)
  for (int i = 0; i < 3; ++i) EXPECT_EQ(img.pixels.view(-1)[i].item<float>(), expected[i]);
  EXPECT_TRUE(img.info.inverted);
  ASSERT_TRUE(img.info.window_center.has_value());
  EXPECT_DOUBLE_EQ(*img.info.window_center, 430.0);
  EXPECT_DOUBLE_EQ(*img.info.window_width, 50.0);
}

TEST(DicomImage, MetadataAndShape) {
  TempDir dir;
  RawDicom r = ramp(3, 5);
  r.frames = 2;
  r.values.resize(30, 7);
  r.bits_stored = 12;
  r.intercept = "-1024";
  write_raw_dicom(dir.str("mf.dcm"), r, EXS_RLELossless);
  const DicomImage img = read_dicom_image(dir.str("mf.dcm"));
  EXPECT_EQ(img.pixels.sizes(), (std::vector<int64_t>{2, 3, 5}));
  EXPECT_EQ(img.pixels.scalar_type(), torch::kFloat32);
  EXPECT_EQ(img.info.rows, 3);
  EXPECT_EQ(img.info.cols, 5);
  EXPECT_EQ(img.info.frames, 2);
  EXPECT_EQ(img.info.bits_stored, 12);
  EXPECT_EQ(img.info.intercept, -1024.0);
  EXPECT_EQ(img.info.photometric, "MONOCHROME2");
  EXPECT_EQ(img.info.transfer_syntax_uid, "1.2.840.10008.1.2.5");
  EXPECT_FALSE(img.info.window_center.has_value());
  EXPECT_EQ(img.pixels[1][2][4].item<float>(), 7.0f - 1024.0f);
}

}  // namespace
}  // namespace medtrain::data
