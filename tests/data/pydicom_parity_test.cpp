// Parity of read_dicom_image with pydicom (an independent decoder and modality
// LUT). We write files with our generator and with DCMTK, decode them here,
// dump the float values as raw .f32, and let tests/data/pydicom_reference.py
// decode the same files with pydicom (+ pylibjpeg for JPEG-LS) and compare
// exactly; it also checks each file's transfer syntax is the one we claim.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "data/dicom_image.h"
#include "data/manifest.h"
#include "data/synthetic_dicom.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

namespace fs = std::filesystem;
using testing::RawDicom;
using testing::TempDir;

struct Expected {
  std::string file;
  std::string transfer_syntax_uid;
};

void dump_f32(const std::string& dcm, const fs::path& out) {
  const DicomImage img = read_dicom_image(dcm);
  std::ofstream f(out, std::ios::binary);
  const torch::Tensor p = img.pixels.contiguous();
  f.write(reinterpret_cast<const char*>(p.data_ptr<float>()), static_cast<std::streamsize>(p.numel() * sizeof(float)));
  std::ofstream shape(out.string() + ".shape");
  shape << img.info.frames << ' ' << img.info.rows << ' ' << img.info.cols << '\n';
}

std::string run_capture(const std::string& cmd, int& status) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) {
    status = -1;
    return "popen failed";
  }
  char buf[512];
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  status = pclose(p);
  return out;
}

// Hand-made files covering what the generator does not write.
std::vector<Expected> write_special_files(const fs::path& dir) {
  std::mt19937_64 rng(11);
  std::vector<Expected> out;
  RawDicom s16;  // signed 16-bit with a fractional slope, full range
  s16.rows = 16, s16.cols = 12, s16.pixel_representation = 1, s16.slope = "1.5", s16.intercept = "-100";
  for (int i = 0; i < s16.rows * s16.cols; ++i) s16.values.push_back(static_cast<uint16_t>(rng()));
  s16.values[0] = 0x8000, s16.values[1] = 0x7fff, s16.values[2] = 0xffff;
  testing::write_raw_dicom((dir / "signed16.dcm").string(), s16);
  out.push_back({"signed16.dcm", "1.2.840.10008.1.2.1"});

  RawDicom s12 = s16;  // signed 12-bit with garbage in the 4 unused high bits
  s12.bits_stored = 12, s12.slope = "", s12.intercept = "";
  for (uint16_t& v : s12.values) v = static_cast<uint16_t>(v ^ (rng() & 0xf000));
  testing::write_raw_dicom((dir / "signed12.dcm").string(), s12);
  testing::write_raw_dicom((dir / "signed12_rle.dcm").string(), s12, EXS_RLELossless);
  out.push_back({"signed12.dcm", "1.2.840.10008.1.2.1"});
  out.push_back({"signed12_rle.dcm", "1.2.840.10008.1.2.5"});

  RawDicom m1;  // 8-bit MONOCHROME1
  m1.rows = 10, m1.cols = 14, m1.bits_allocated = 8, m1.bits_stored = 8, m1.photometric = "MONOCHROME1";
  for (int i = 0; i < m1.rows * m1.cols; ++i) m1.values.push_back(static_cast<uint16_t>(rng() & 0xff));
  testing::write_raw_dicom((dir / "mono1_8bit.dcm").string(), m1);
  testing::write_raw_dicom((dir / "mono1_8bit_rle.dcm").string(), m1, EXS_RLELossless);
  out.push_back({"mono1_8bit.dcm", "1.2.840.10008.1.2.1"});
  out.push_back({"mono1_8bit_rle.dcm", "1.2.840.10008.1.2.5"});

  RawDicom mf;  // 12-bit unsigned, 3 frames, compressed both ways
  mf.rows = 20, mf.cols = 18, mf.frames = 3, mf.bits_stored = 12, mf.slope = "1", mf.intercept = "-1024";
  for (int i = 0; i < mf.rows * mf.cols * mf.frames; ++i) mf.values.push_back(static_cast<uint16_t>(rng() & 0xfff));
  testing::write_raw_dicom((dir / "multiframe_jls.dcm").string(), mf, EXS_JPEGLSLossless);
  testing::write_raw_dicom((dir / "multiframe_rle.dcm").string(), mf, EXS_RLELossless);
  out.push_back({"multiframe_jls.dcm", "1.2.840.10008.1.2.4.80"});
  out.push_back({"multiframe_rle.dcm", "1.2.840.10008.1.2.5"});
  return out;
}

TEST(PydicomParity, DecodedValuesMatchPydicom) {
  TempDir dir;
  SyntheticOptions o;
  o.out_dir = dir.str("synthetic");
  o.count = 6;
  o.patients = 2;
  o.image_size = 64;
  o.seed = 3;
  write_synthetic_dataset(o);
  ManifestOptions mo;
  mo.manifest_path = dir.str("synthetic/manifest.csv");
  const Manifest m = read_manifest(mo);
  ASSERT_EQ(m.rows.size(), 6u);

  const fs::path cases = dir.path() / "cases";
  fs::create_directories(cases);
  std::vector<Expected> expected = write_special_files(cases);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  for (size_t k = 0; k < m.rows.size(); ++k) {  // the generator cycles explicit, JPEG-LS, RLE
    const std::string name = "synthetic_" + std::to_string(k) + ".dcm";
    fs::copy_file(dir.path() / "synthetic" / m.rows[k].path, cases / name);
    expected.push_back({name, transfer_syntax_uid(o.transfer_syntaxes[k % 3])});
  }
  std::ofstream list(cases / "expected.csv");
  list << "file,transfer_syntax_uid\n";
  for (const Expected& e : expected) {
    dump_f32((cases / e.file).string(), cases / (e.file + ".f32"));
    list << e.file << ',' << e.transfer_syntax_uid << '\n';
  }
  list.close();

  int status = 0;
  const std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR +
                          "/tests/data/pydicom_reference.py " + cases.string();
  const std::string output = run_capture(cmd, status);
  EXPECT_EQ(status, 0) << cmd << "\n" << output;
  EXPECT_NE(output.find("checked " + std::to_string(expected.size()) + " files"), std::string::npos) << output;
}

}  // namespace
}  // namespace medtrain::data
