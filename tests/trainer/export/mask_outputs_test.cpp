// write_dicom_seg / write_nifti on a small oblique CT series (4 slices of 5x7,
// file names in reverse order of position). The files are checked by
// independent readers in mask_outputs_check.py (pydicom + highdicom for the
// SEG, nibabel for the NIfTI, geometry recomputed from the source with pydicom);
// the bad cases here: an existing target, a mask that does not fit the
// series, a class without a label name, a source slice gone. None leaves a file.
#include "trainer/export/mask_outputs.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "data/data_error.h"
#include "data/npy_writer.h"
#include "tests/data/test_files.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;
using data::testing::RawDicom;
using data::testing::TempDir;

constexpr int kSlices = 4, kRows = 5, kCols = 7;

std::string uid() {
  char buf[100];
  return dcmGenerateUniqueIdentifier(buf, SITE_INSTANCE_UID_ROOT);
}

// Slices along the normal of an oblique plane: rows along (0.8, 0.6, 0),
// columns along (0, 0, -1), so the normal is (-0.6, 0.8, 0) and LPS->RAS
// flips matter in every axis of the affine.
void write_series(const fs::path& dir) {
  fs::create_directories(dir);
  const std::string study = uid(), series = uid(), frame = uid();
  for (int k = 0; k < kSlices; ++k) {
    RawDicom r;
    r.rows = kRows, r.cols = kCols;
    r.values.assign(kRows * kCols, static_cast<uint16_t>(k));
    const std::string path = (dir / ("slice_" + std::to_string(kSlices - k) + ".dcm")).string();
    data::testing::write_raw_dicom(path, r);
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(path.c_str()).good());
    DcmDataset* ds = file.getDataset();
    const double t = 2.5 * k;
    const std::string pos = std::to_string(10.0 - 0.6 * t) + "\\" + std::to_string(-20.0 + 0.8 * t) + "\\30.25";
    ds->putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    ds->putAndInsertString(DCM_Modality, "CT");
    ds->putAndInsertString(DCM_ImagePositionPatient, pos.c_str());
    ds->putAndInsertString(DCM_ImageOrientationPatient, "0.8\\0.6\\0\\0\\0\\-1");
    ds->putAndInsertString(DCM_PixelSpacing, "0.5\\0.75");
    ds->putAndInsertString(DCM_StudyInstanceUID, study.c_str());
    ds->putAndInsertString(DCM_SeriesInstanceUID, series.c_str());
    ds->putAndInsertString(DCM_FrameOfReferenceUID, frame.c_str());
    ds->putAndInsertString(DCM_PatientID, "RESEARCH0042");
    ds->putAndInsertString(DCM_PatientName, "Research^0042");
    ds->putAndInsertString(DCM_StudyID, "1");
    ds->putAndInsertString(DCM_SeriesNumber, "3");
    ds->putAndInsertString(DCM_InstanceNumber, std::to_string(k + 1).c_str());
    ASSERT_TRUE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
  }
}

// Classes 0..2 in a pattern that differs per slice; slice 0 has no class 2
// (an empty frame is still written).
torch::Tensor make_labels() {
  auto labels = torch::zeros({kSlices, kRows, kCols}, torch::kUInt8);
  auto a = labels.accessor<uint8_t, 3>();
  for (int k = 0; k < kSlices; ++k)
    for (int r = 0; r < kRows; ++r)
      for (int c = 0; c < kCols; ++c) a[k][r][c] = static_cast<uint8_t>(k == 0 ? (r + c) % 2 : (k * r + c) % 3);
  return labels;
}

torch::Tensor make_probabilities() {
  return torch::arange(3 * kSlices * kRows * kCols, torch::kInt64).mul(37).remainder(256).to(torch::kUInt8).reshape(
      {3, kSlices, kRows, kCols});
}

SegWriteOptions options(bool fractional) {
  SegWriteOptions o;
  o.label_names = {"background", "liver", "lesion"};
  o.fractional = fractional;
  o.algorithm_name = "unet3d";
  o.algorithm_version = "9.8.7";
  return o;
}

template <typename E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(no error)";
}

bool has_partial_files(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(".partial", 0) == 0) return true;
  return false;
}

class MaskOutputs : public ::testing::Test {
 protected:
  void SetUp() override {
    write_series(dir_.path() / "series");
    series_ = data::read_series_volume(dir_.str("series"));
    fs::create_directories(dir_.path() / "out");
  }
  fs::path out(const std::string& name) const { return dir_.path() / "out" / name; }

  TempDir dir_;
  data::SeriesVolume series_;
};

TEST_F(MaskOutputs, IndependentReadersAgree) {
  const auto labels = make_labels();
  const auto probs = make_probabilities();
  write_dicom_seg(out("binary.dcm"), labels, {}, series_, options(false));
  write_dicom_seg(out("fractional.dcm"), labels, probs, series_, options(true));
  write_nifti(out("mask.nii.gz"), labels, series_);
  EXPECT_FALSE(has_partial_files(dir_.path() / "out"));
  data::write_npy_u8(dir_.str("labels.npy"), labels.data_ptr<uint8_t>(), labels.sizes().vec());
  data::write_npy_u8(dir_.str("probs.npy"), probs.data_ptr<uint8_t>(), probs.sizes().vec());
  const auto run = data::testing::run_python_script(
      "tests/trainer/export/mask_outputs_check.py",
      dir_.str("series") + " " + dir_.str("labels.npy") + " " + dir_.str("probs.npy") + " " + out("binary.dcm").string() +
          " " + out("fractional.dcm").string() + " " + out("mask.nii.gz").string() + " liver,lesion unet3d 9.8.7");
  EXPECT_EQ(run.status, 0) << run.output;
}

TEST_F(MaskOutputs, ExistingTargetIsRefused) {
  const auto labels = make_labels();
  for (const char* name : {"seg.dcm", "mask.nii.gz"}) {
    data::testing::write_text(out(name), "keep me");
    const std::string msg = error_of<UserError>([&] {
      if (std::string(name) == "seg.dcm") {
        write_dicom_seg(out(name), labels, {}, series_, options(false));
      } else {
        write_nifti(out(name), labels, series_);
      }
    });
    EXPECT_NE(msg.find(out(name).string() + ": exists"), std::string::npos) << msg;
    std::ifstream in(out(name));
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "keep me");
  }
}

TEST_F(MaskOutputs, MaskNotFittingTheSeriesIsRefused) {
  const auto short_mask = torch::zeros({kSlices - 1, kRows, kCols}, torch::kUInt8);
  EXPECT_NE(error_of<UserError>([&] { write_dicom_seg(out("a.dcm"), short_mask, {}, series_, options(false)); })
                .find("the mask has 3 slices but the series has 4 files"),
            std::string::npos);
  EXPECT_NE(error_of<UserError>([&] { write_nifti(out("a.nii.gz"), short_mask, series_); })
                .find("the mask has 3 slices but the series has 4"),
            std::string::npos);
  const auto wide_mask = torch::zeros({kSlices, kRows, kCols + 1}, torch::kUInt8);
  const std::string msg =
      error_of<UserError>([&] { write_dicom_seg(out("b.dcm"), wide_mask, {}, series_, options(false)); });
  EXPECT_NE(msg.find("the mask is 5x8 per slice but " + series_.files[0] + " is 5x7"), std::string::npos) << msg;
  const std::string fmsg = error_of<UserError>(
      [&] { write_dicom_seg(out("c.dcm"), make_labels(), make_probabilities()[0], series_, options(true)); });
  EXPECT_NE(fmsg.find("a fractional SEG needs uint8 probabilities [3, 4, 5, 7]"), std::string::npos) << fmsg;
  EXPECT_TRUE(fs::is_empty(dir_.path() / "out"));
}

// A multi-frame volume (files = {that file}) has no per-slice instances to
// reference: SEG refuses it, NIfTI needs only the geometry.
TEST_F(MaskOutputs, MultiFrameSourceIsNiftiOnly) {
  data::SeriesVolume multiframe = series_;
  multiframe.files = {series_.files[0]};
  multiframe.voxels = torch::Tensor();
  const std::string msg =
      error_of<UserError>([&] { write_dicom_seg(out("mf.dcm"), make_labels(), {}, multiframe, options(false)); });
  EXPECT_NE(msg.find(series_.files[0] + " is one multi-frame file"), std::string::npos) << msg;
  write_nifti(out("mf.nii.gz"), make_labels(), multiframe);
  EXPECT_TRUE(fs::exists(out("mf.nii.gz")));
  EXPECT_FALSE(fs::exists(out("mf.dcm")));
}

TEST_F(MaskOutputs, ClassWithoutLabelNameIsRefused) {
  auto labels = make_labels();
  labels[2][1][1] = 3;
  const std::string msg =
      error_of<UserError>([&] { write_dicom_seg(out("seg.dcm"), labels, {}, series_, options(false)); });
  EXPECT_NE(msg.find(out("seg.dcm").string() + ": the mask holds class 3 but only 3 label names"), std::string::npos)
      << msg;
  EXPECT_TRUE(fs::is_empty(dir_.path() / "out"));
}

TEST_F(MaskOutputs, UnreadableSourceSliceIsNamed) {
  fs::remove(series_.files[2]);
  const std::string msg =
      error_of<data::DataError>([&] { write_dicom_seg(out("seg.dcm"), make_labels(), {}, series_, options(false)); });
  EXPECT_NE(msg.find(series_.files[2] + ": cannot read the source slice"), std::string::npos) << msg;
  EXPECT_TRUE(fs::is_empty(dir_.path() / "out"));
}

}  // namespace
}  // namespace medtrain::exporter
