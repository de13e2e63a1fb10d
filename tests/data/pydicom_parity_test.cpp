// Parity of read_dicom_image with pydicom (an independent decoder, colour
// conversion and modality LUT) on every transfer syntax we support.
// tests/data/dicom_corpus.py writes the corpus with pydicom and DCMTK's
// command-line tools (plus pydicom's bundled real-world files); we add files
// written by our own generator and by DCMTK's API, decode everything here, dump
// the float values as raw .f32, and tests/data/pydicom_reference.py decodes the
// same files with pydicom and compares (exact for lossless files). It also
// checks each file's transfer syntax is the one we claim.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "data/data_error.h"
#include "data/dicom/dicom_image.h"
#include "data/manifest.h"
#include "data/dicom/synthetic_dicom.h"
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
  for (const int64_t d : p.sizes()) shape << d << ' ';
  shape << '\n';
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

std::string python(const std::string& script, const std::string& args, int& status) {
  return run_capture(std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR + "/tests/data/" + script + " " + args,
                     status);
}

// Hand-made files written through DCMTK's API, covering what the corpus
// script does not write that way.
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
  testing::write_raw_dicom((dir / "mono1_8bit_api.dcm").string(), m1);
  testing::write_raw_dicom((dir / "mono1_8bit_api_rle.dcm").string(), m1, EXS_RLELossless);
  out.push_back({"mono1_8bit_api.dcm", "1.2.840.10008.1.2.1"});
  out.push_back({"mono1_8bit_api_rle.dcm", "1.2.840.10008.1.2.5"});

  RawDicom mf;  // 12-bit unsigned, 3 frames, compressed both ways
  mf.rows = 20, mf.cols = 18, mf.frames = 3, mf.bits_stored = 12, mf.slope = "1", mf.intercept = "-1024";
  for (int i = 0; i < mf.rows * mf.cols * mf.frames; ++i) mf.values.push_back(static_cast<uint16_t>(rng() & 0xfff));
  testing::write_raw_dicom((dir / "multiframe_api_jls.dcm").string(), mf, EXS_JPEGLSLossless);
  testing::write_raw_dicom((dir / "multiframe_api_rle.dcm").string(), mf, EXS_RLELossless);
  out.push_back({"multiframe_api_jls.dcm", "1.2.840.10008.1.2.4.80"});
  out.push_back({"multiframe_api_rle.dcm", "1.2.840.10008.1.2.5"});
  return out;
}

// Our own generator's files (explicit, JPEG-LS, RLE, cycling).
std::vector<Expected> copy_synthetic_files(const TempDir& dir, const fs::path& cases) {
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
  std::vector<Expected> out;
  for (size_t k = 0; k < m.rows.size(); ++k) {
    const std::string name = "synthetic_" + std::to_string(k) + ".dcm";
    fs::copy_file(dir.path() / "synthetic" / m.rows[k].path, cases / name);
    out.push_back({name, transfer_syntax_uid(o.transfer_syntaxes[k % 3])});
  }
  return out;
}

TEST(PydicomParity, DecodedValuesMatchPydicom) {
  TempDir dir;
  const fs::path cases = dir.path() / "cases";
  int status = 0;
  std::string output = python("dicom_corpus.py", cases.string() + " --bundled", status);
  ASSERT_EQ(status, 0) << output;

  std::vector<Expected> extra = write_special_files(cases);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  for (const Expected& e : copy_synthetic_files(dir, cases)) extra.push_back(e);
  {
    std::ofstream list(cases / "corpus.csv", std::ios::app);
    for (const Expected& e : extra) list << e.file << ',' << e.transfer_syntax_uid << ",0\n";
  }
  // Every listed file decodes; every transfer syntax we claim is present.
  std::ifstream list(cases / "corpus.csv");
  std::string line;
  std::getline(list, line);  // header
  std::set<std::string> syntaxes;
  size_t files = 0;
  while (std::getline(list, line)) {
    const std::string file = line.substr(0, line.find(','));
    const std::string rest = line.substr(line.find(',') + 1);
    syntaxes.insert(rest.substr(0, rest.find(',')));
    ASSERT_NO_THROW(dump_f32((cases / file).string(), cases / (file + ".f32"))) << file;
    ++files;
  }
  for (const char* uid : {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99",
                          "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
                          "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
                          "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"}) {
    EXPECT_TRUE(syntaxes.count(uid)) << "no test file with transfer syntax " << uid;
  }
  output = python("pydicom_reference.py", cases.string(), status);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("checked " + std::to_string(files) + " files"), std::string::npos) << output;
}

// pydicom's bundled files that medtrain refuses: a clear error naming the file
// and the unsupported feature, never a crash or garbage.
TEST(PydicomParity, UnsupportedBundledFilesAreRefusedClearly) {
  TempDir dir;
  const fs::path cases = dir.path() / "cases";
  int status = 0;
  const std::string output = python("dicom_corpus.py", cases.string() + " --bundled", status);
  ASSERT_EQ(status, 0) << output;
  std::ifstream list(cases / "unsupported" / "unsupported.csv");
  std::string line;
  std::getline(list, line);
  int checked = 0;
  while (std::getline(list, line)) {
    const std::string file = (cases / "unsupported" / line.substr(0, line.find(','))).string();
    const std::string words = line.substr(line.find(',') + 1);
    try {
      read_dicom_image(file);
      ADD_FAILURE() << file << " decoded, expected an error with '" << words << "'";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
    ++checked;
  }
  EXPECT_GE(checked, 1);  // MR_truncated.dcm at least
}

}  // namespace
}  // namespace medtrain::data
