// read_dicom_image: bad inputs name the file and the problem; a few stored-value
// rules checked against values worked out by hand from PS3.3 C.7.6.3 (the
// bulk of the value checks is the pydicom parity test).
#include "data/dicom/dicom_image.h"

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

TEST(DicomImage, MissingFile) { expect_error("/nonexistent/medtrain/x.dcm", {"does not exist"}); }

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
  r.photometric = "YBR_PARTIAL_420";  // retired in PS3.3 2017; PALETTE COLOR: dicom_palette_test.cpp
  write_raw_dicom(dir.str("partial.dcm"), r);
  expect_error(dir.str("partial.dcm"), {"unsupported photometric interpretation 'YBR_PARTIAL_420'"});
  r.photometric = "RGB";  // colour needs three samples per pixel
  write_raw_dicom(dir.str("rgb1.dcm"), r);
  expect_error(dir.str("rgb1.dcm"), {"SamplesPerPixel 1 for RGB"});
}

TEST(DicomImage, ColourPixelDataTooShort) {
  TempDir dir;
  RawDicom r = ramp(4, 4);  // 16 words = 32 bytes, RGB 16-bit needs 4*4*3*2 = 96
  r.photometric = "RGB";
  r.samples_per_pixel = 3;
  write_raw_dicom(dir.str("rgb.dcm"), r);
  expect_error(dir.str("rgb.dcm"), {"pixel data too short", "4*4*1*3"});
}

// Planar configuration 1 (RR..GG..BB..) comes out samples-last like planar 0.
TEST(DicomImage, RgbPlanarOneIsSamplesLast) {
  TempDir dir;
  RawDicom r;
  r.rows = 1, r.cols = 2, r.bits_allocated = 8, r.bits_stored = 8, r.photometric = "RGB", r.samples_per_pixel = 3;
  r.values = {10, 11, 20, 21, 30, 31};  // R plane, G plane, B plane
  write_raw_dicom(dir.str("p1.dcm"), r);
  {  // PlanarConfiguration is not in RawDicom: add it with DCMTK
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(dir.str("p1.dcm").c_str()).good());
    file.getDataset()->putAndInsertUint16(DCM_PlanarConfiguration, 1);
    ASSERT_TRUE(file.saveFile(dir.str("p1.dcm").c_str(), EXS_LittleEndianExplicit).good());
  }
  const DicomImage img = read_dicom_image(dir.str("p1.dcm"));
  ASSERT_EQ(img.pixels.sizes(), (std::vector<int64_t>{1, 1, 2, 3}));
  const std::vector<float> want = {10, 20, 30, 11, 21, 31};
  EXPECT_EQ(std::vector<float>(img.pixels.data_ptr<float>(), img.pixels.data_ptr<float>() + 6), want);
  EXPECT_EQ(img.info.planar_configuration, 1);
  // The grey frame a training pipeline sees is the BT.601 luma.
  EXPECT_NEAR(grey_frame(img)[0][0].item<float>(), 0.299 * 10 + 0.587 * 20 + 0.114 * 30, 1e-4);
}

TEST(DicomImage, UnsupportedBitsAllocated) {
  TempDir dir;
  RawDicom r = ramp(2, 2);
  r.bits_allocated = 12;  // 1, 8, 16 and 32 are read (and 32/64 for Float Pixel Data)
  r.bits_stored = 12;
  write_raw_dicom(dir.str("b12.dcm"), r);
  expect_error(dir.str("b12.dcm"), {"BitsAllocated 12", "(supported: 1, 8, 16, 32)"});
}

// Encapsulated pixel data with one fragment holding `fragment`.
void write_encapsulated(const std::string& path, E_TransferSyntax xfer, const std::vector<Uint8>& fragment) {
  RawDicom r = ramp(4, 4);
  r.pixel_data = false;
  write_raw_dicom(path, r);
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(path.c_str()).good());
  auto* seq = new DcmPixelSequence(DCM_PixelSequenceTag);
  seq->insert(new DcmPixelItem(DCM_PixelItemTag));  // empty offset table
  auto* item = new DcmPixelItem(DCM_PixelItemTag);
  item->putUint8Array(fragment.data(), static_cast<unsigned long>(fragment.size()));
  seq->insert(item);
  auto* pixels = new DcmPixelData(DCM_PixelData);
  pixels->putOriginalRepresentation(xfer, nullptr, seq);
  file.getDataset()->insert(pixels);
  ASSERT_TRUE(file.saveFile(path.c_str(), xfer).good());
}

// A syntax without a decoder (MPEG2 video): the error names it and its UID.
TEST(DicomImage, UnsupportedTransferSyntaxIsNamed) {
  TempDir dir;
  write_encapsulated(dir.str("mpeg2.dcm"), EXS_MPEG2MainProfileAtMainLevel, {0, 0, 1, 0xb3, 0, 0, 0, 0});
  expect_error(dir.str("mpeg2.dcm"), {"unsupported transfer syntax", "MPEG2", "1.2.840.10008.1.2.4.100"});
}

// A JPEG 2000 codestream that starts right and then is garbage: OpenJPEG's
// complaint reaches the user with the file and frame, no crash.
TEST(DicomImage, CorruptJpeg2000IsAnError) {
  TempDir dir;
  write_encapsulated(dir.str("j2k.dcm"), EXS_JPEG2000LosslessOnly, {0xff, 0x4f, 0xff, 0x51, 0, 0, 0, 0});
  expect_error(dir.str("j2k.dcm"), {"frame 1", "JPEG 2000"});
  write_encapsulated(dir.str("jls.dcm"), EXS_JPEGLSLossless, {0xff, 0xd8, 0xff, 0xf7, 0, 0, 0, 0});
  expect_error(dir.str("jls.dcm"), {"JPEG-LS"});
}

// A tiny compressed file whose header promises 65535 x 65535 x 100 frames is
// refused before any codec allocates 800 GB.
TEST(DicomImage, AbsurdSizeFromTinyCompressedDataIsRefused) {
  TempDir dir;
  for (const E_TransferSyntax xfer : {EXS_JPEGLSLossless, EXS_JPEG2000LosslessOnly}) {
    const std::string path = dir.str(xfer == EXS_JPEGLSLossless ? "jls.dcm" : "j2k.dcm");
    write_encapsulated(path, xfer, {0xff, 0xd8, 0xff, 0xf7, 0, 0, 0, 0});
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(path.c_str()).good());
    file.getDataset()->putAndInsertUint16(DCM_Rows, 65535);
    file.getDataset()->putAndInsertUint16(DCM_Columns, 65535);
    file.getDataset()->putAndInsertString(DCM_NumberOfFrames, "100");
    ASSERT_TRUE(file.saveFile(path.c_str(), xfer).good());
    expect_error(path, {"image too large or header corrupt", "65535x65535x100"});
  }
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
