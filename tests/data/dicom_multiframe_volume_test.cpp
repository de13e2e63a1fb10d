// Multi-frame volumes (data/dicom/multiframe_volume.h) against pydicom:
// tests/data/multiframe_reference.py writes an Enhanced CT (shuffled frames,
// per-frame positions and rescales, shared orientation/spacing) and copies
// pydicom's bundled RT dose files (implicit LE, big endian, one frame; RLE by dcmcrle,
// and a variant with absolute z offsets), and saves the volume pydicom gives
// for each (raw float32): values, spacing and origin must match ours.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <vector>

#include "data/data_error.h"
#include "data/dicom/dicom_dataset.h"
#include "data/dicom/multiframe_volume.h"
#include "data/dicom/series_volume.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

class MultiframeVolumeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    const auto run = testing::run_python_script("tests/data/multiframe_reference.py", dir_->str(""));
    status_ = run.status;
    output_ = run.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override { ASSERT_EQ(status_, 0) << output_; }
  static std::string file(const std::string& name) { return dir_->str(name); }

  // Our volume of NAME.dcm against pydicom's NAME.npy / NAME.geom.
  static void expect_reference(const std::string& name, double rel_tolerance) {
    SCOPED_TRACE(name);
    const MultiframeVolume m = read_multiframe_volume(file(name + ".dcm"));
    std::ifstream geom(file(name + ".geom"));
    std::vector<int64_t> shape(3);
    geom >> shape[0] >> shape[1] >> shape[2];
    torch::Tensor want = torch::empty(shape, torch::kFloat32);
    std::ifstream raw(file(name + ".f32"), std::ios::binary);
    raw.read(reinterpret_cast<char*>(want.data_ptr<float>()), static_cast<std::streamsize>(want.numel() * 4));
    ASSERT_TRUE(raw.good());
    ASSERT_EQ(m.volume.voxels.sizes(), want.sizes());
    const double scale = want.abs().max().item<double>();
    EXPECT_LE((m.volume.voxels - want).abs().max().item<double>(), rel_tolerance * scale);
    for (int k = 0; k < 3; ++k) {
      double s = 0;
      geom >> s;
      EXPECT_NEAR(m.volume.spacing[k], s, 1e-6) << "spacing " << k;
    }
    for (int k = 0; k < 3; ++k) {
      double o = 0;
      geom >> o;
      EXPECT_NEAR(m.volume.origin[k], o, 1e-6) << "origin " << k;
    }
  }

  static testing::TempDir* dir_;
  static std::string output_;
  static int status_;
};
testing::TempDir* MultiframeVolumeTest::dir_ = nullptr;
std::string MultiframeVolumeTest::output_;
int MultiframeVolumeTest::status_ = 0;

using testing::error_of;

TEST_F(MultiframeVolumeTest, EnhancedCtEqualsPydicomPerFrameRescaleAndOrder) {
  expect_reference("enhanced", 0.0);  // stored * slope + intercept, rounded once to float: exact
  const MultiframeVolume m = read_multiframe_volume(file("enhanced.dcm"));
  EXPECT_EQ(m.kind, "enhanced multi-frame");
  EXPECT_TRUE(is_multiframe_volume(file("enhanced.dcm")));
  // A volume manifest's path may be the file itself: read_series_volume dispatches.
  EXPECT_TRUE(torch::equal(read_series_volume(file("enhanced.dcm")).voxels, m.volume.voxels));
}

TEST_F(MultiframeVolumeTest, AVolumeManifestMayNameAMultiframeFile) {
  testing::write_text(file("volumes.csv"),
                      "path,label,patient_id,split\nenhanced.dcm,1,P1,train\nrtdose.dcm,0,P2,train\n");
  DicomDatasetOptions o;
  o.manifest = file("volumes.csv");
  o.depth = 6;
  o.image_size = 16;
  o.num_classes = 2;
  const auto dataset = open_dicom_dataset(o);
  ASSERT_EQ(dataset->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(dataset->get(i, 0).image.sizes().vec(), (std::vector<int64_t>{1, 6, 16, 16})) << i;
  }
}

TEST_F(MultiframeVolumeTest, RtDoseInGyEqualsPydicom) {
  // float32 keeps 24 bits of the 32-bit stored doses: relative error <= 2^-24 per value.
  for (const char* name : {"rtdose", "rtdose_1frame", "rtdose_rle", "rtdose_expb", "rtdose_absolute"}) {
    expect_reference(name, 1e-6);
  }
  const MultiframeVolume m = read_multiframe_volume(file("rtdose.dcm"));
  EXPECT_EQ(m.kind, "RT dose");
  EXPECT_EQ(m.units, "RELATIVE");  // pydicom's file says so (DoseUnits 3004,0002); GY in clinical files
  EXPECT_DOUBLE_EQ(m.dose_grid_scaling, 1e-6);
}

TEST_F(MultiframeVolumeTest, BadVolumesNameTheFileAndTheProblem) {
  std::string msg = error_of([&] { read_multiframe_volume(file("rtdose_absolute_oblique.dcm")); });
  EXPECT_NE(msg.find("rtdose_absolute_oblique.dcm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("absolute z values"), std::string::npos) << msg;
  msg = error_of([&] { read_multiframe_volume(file("enhanced_two_stacks.dcm")); });
  EXPECT_NE(msg.find("enhanced_two_stacks.dcm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("are at the same position"), std::string::npos) << msg;
}

}  // namespace
}  // namespace medtrain::data
