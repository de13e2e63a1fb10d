// DICOM SEG as segmentation labels (data/dicom/seg_labels.h) against an
// independent reference: tests/data/seg_reference.py writes a SEG with
// highdicom from our synthetic CT series and decodes it back with pydicom
// alone; the label volumes we read must equal pydicom's voxel for voxel, by
// SegmentNumber and by SegmentLabel, BINARY and FRACTIONAL, in training
// (DicomDataset, 3D and 2D), in pack and in read_seg_labels. The bad cases: a SEG of another series, a frame naming an
// unknown SOP instance, a segment label outside data.label_names.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "data/data_error.h"
#include "data/dicom/dicom_dataset.h"
#include "data/dicom/multiframe_volume.h"
#include "data/dicom/seg_labels.h"
#include "data/dicom/series_volume.h"
#include "data/dicom/synthetic_dicom.h"
#include "data/npy_reader.h"
#include "data/shard/packer.h"
#include "data/shard/shard_dataset.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kNames = {"background", "spleen", "liver", "tumour"};

// One synthetic CT series (8 slices of 32 x 32) and the reference's files.
class SegLabels : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    SyntheticOptions o;
    o.out_dir = dir_->str("demo");
    o.count = 8, o.patients = 1, o.val_fraction = 0, o.image_size = 32, o.volumes = true;
    o.transfer_syntaxes = {TransferSyntax::kExplicitVrLittleEndian};
    write_synthetic_dataset(o);
    const auto run = testing::run_python_script("tests/data/seg_reference.py", series() + " " + dir_->str(""));
    status_ = run.status;
    output_ = run.output;
  }
  static void TearDownTestSuite() { delete dir_; }
  void SetUp() override { ASSERT_EQ(status_, 0) << output_; }

  static std::string series() { return dir_->str("demo/images/P0000"); }
  static std::string file(const std::string& name) { return dir_->str(name); }

  static testing::TempDir* dir_;
  static std::string output_;
  static int status_;
};
testing::TempDir* SegLabels::dir_ = nullptr;
std::string SegLabels::output_;
int SegLabels::status_ = 0;

using testing::error_of;

TEST_F(SegLabels, EqualPydicomBySegmentNumberAndByLabel) {
  const SeriesVolume v = read_series_volume(series());
  const torch::Tensor by_number = read_seg_labels(file("seg.dcm"), v, {});
  const torch::Tensor want_number = read_npy_as_int64(file("expected_numbers.npy"));
  ASSERT_EQ(by_number.sizes(), want_number.sizes());
  EXPECT_TRUE(torch::equal(by_number, want_number));
  EXPECT_EQ(by_number.max().item<int64_t>(), 3);

  const torch::Tensor by_name = read_seg_labels(file("seg.dcm"), v, kNames);
  EXPECT_TRUE(torch::equal(by_name, read_npy_as_int64(file("expected_names.npy"))));
  // The tumour (class 3) lies inside the liver (2) and wins where they overlap.
  EXPECT_GT((by_name == 3).sum().item<int64_t>(), 0);
}

// One segment: highdicom puts its identification in the shared functional
// groups, so the shared fallback is exercised too.
TEST_F(SegLabels, FractionalSegmentCountsFromHalfTheMaximum) {
  const torch::Tensor got = read_seg_labels(file("seg_fractional.dcm"), read_series_volume(series()), {});
  const torch::Tensor want = read_npy_as_int64(file("expected_fractional.npy"));
  EXPECT_TRUE(torch::equal(got, want));
  EXPECT_GT(want.sum().item<int64_t>(), 0);
}

TEST_F(SegLabels, IsDicomSegTellsSegFromImagesAndNpy) {
  EXPECT_TRUE(is_dicom_seg(file("seg.dcm")));
  EXPECT_FALSE(is_dicom_seg(read_series_volume(series()).files[0]));
  EXPECT_FALSE(is_dicom_seg(file("expected_names.npy")));
  EXPECT_FALSE(is_multiframe_volume(file("seg.dcm")));  // per-frame groups, but a label, not a volume
}

TEST_F(SegLabels, TrainingReadsSegAsTheMaskTarget) {
  testing::write_text(file("seg_manifest.csv"),
                      "path,label,mask,patient_id,split\ndemo/images/P0000,1,seg.dcm,P0000,train\n");
  DicomDatasetOptions o;
  o.manifest = file("seg_manifest.csv");
  o.target = TargetKind::kMask;
  o.num_classes = 4;
  o.depth = 8;
  o.image_size = 32;
  o.label_names = kNames;
  const auto dataset = open_dicom_dataset(o);
  const Sample s = dataset->get(0, 0);
  EXPECT_TRUE(torch::equal(s.target, read_npy_as_int64(file("expected_names.npy"))));

  o.num_classes = 3;  // class 3 (tumour) does not fit
  o.label_names = {};
  EXPECT_NE(error_of([&] { open_dicom_dataset(o)->get(0, 0); }).find("model.num_classes is 3"), std::string::npos);
}

TEST_F(SegLabels, PackedSegEqualsTheFilesAndAnAbsentSeriesStopsThePack) {
  testing::write_text(file("pack_manifest.csv"),
                      "path,label,mask,patient_id,split\ndemo/images/P0000,1,seg.dcm,P0000,train\n");
  shard::PackOptions p;
  p.manifest = file("pack_manifest.csv");
  p.out = file("packed");
  p.workers = 1;
  p.target = "mask";
  p.volumes = true;
  p.label_names = kNames;
  shard::pack_dataset(p);
  shard::ShardDatasetOptions so;
  so.dir = p.out;
  so.split = "train";
  so.preprocess.target = TargetKind::kMask;
  so.preprocess.num_classes = 4;
  so.preprocess.depth = 8;
  so.preprocess.image_size = 32;
  const auto shards = shard::open_shard_dataset(so);
  EXPECT_TRUE(torch::equal(shards->get(0, 0).target, read_npy_as_int64(file("expected_names.npy"))));

  testing::write_text(file("pack_bad.csv"),
                      "path,label,mask,patient_id,split\ndemo/images/P0000,1,seg_other_series.dcm,P0000,train\n");
  p.manifest = file("pack_bad.csv");
  p.out = file("packed_bad");
  const std::string msg = error_of([&] { shard::pack_dataset(p); });
  EXPECT_NE(msg.find("seg_other_series.dcm: DICOM SEG: references series 1.2.3.4.5.6.7.8.9, which is absent"),
            std::string::npos)
      << msg;
}

TEST_F(SegLabels, TwoDimensionalSamplesTakeTheFramesOfTheirImage) {
  const SeriesVolume v = read_series_volume(series());
  std::string csv = "path,label,mask,patient_id,split\n";
  for (const std::string& f : v.files) {
    csv += fs::relative(f, file("")).string() + ",0,seg.dcm,P0000,train\n";
  }
  testing::write_text(file("seg_manifest_2d.csv"), csv);
  DicomDatasetOptions o;
  o.manifest = file("seg_manifest_2d.csv");
  o.target = TargetKind::kMask;
  o.num_classes = 4;
  o.image_size = 32;
  o.label_names = kNames;
  const auto dataset = open_dicom_dataset(o);
  const torch::Tensor want = read_npy_as_int64(file("expected_names.npy"));
  for (size_t k = 0; k < v.files.size(); ++k) {  // manifest row k is volume slice k
    EXPECT_TRUE(torch::equal(dataset->get(k, 0).target, want[static_cast<int64_t>(k)])) << v.files[k];
  }
}

TEST_F(SegLabels, BadInputNamesTheSegAndTheUid) {
  const SeriesVolume v = read_series_volume(series());
  std::string msg = error_of([&] { read_seg_labels(file("seg_other_series.dcm"), v, {}); });
  EXPECT_NE(msg.find("seg_other_series.dcm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("references series 1.2.3.4.5.6.7.8.9, which is absent"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;

  msg = error_of([&] { read_seg_labels(file("seg_unknown_sop.dcm"), v, {}); });
  EXPECT_NE(msg.find("seg_unknown_sop.dcm"), std::string::npos) << msg;
  EXPECT_NE(msg.find("frame 2 references SOP instance 1.2.3.4.5.6.7.8.10, which is not in the series"),
            std::string::npos)
      << msg;

  msg = error_of([&] { read_seg_labels(file("seg.dcm"), v, {"background", "liver"}); });
  EXPECT_NE(msg.find("'Tumour' is not among the label names [background, liver]"), std::string::npos) << msg;

  SeriesVolume smaller = v;  // another grid than the SEG's frames
  smaller.voxels = v.voxels.narrow(1, 0, 16).contiguous();
  msg = error_of([&] { read_seg_labels(file("seg.dcm"), smaller, {}); });
  EXPECT_NE(msg.find("frames are 32x32, the series' slices 16x32"), std::string::npos) << msg;
}

}  // namespace
}  // namespace medtrain::data
