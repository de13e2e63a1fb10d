// Segmentation masks and volumes in shards (pack --target mask, --volumes):
// every sample, image and mask, equals DicomDataset's bit for bit with the
// whole augmentation (flip, rotation, crop, intensity jitter, 3D patches),
// and each mismatch between what a pack holds and what the configuration
// asks for is one DataError naming metadata.json.
#include <gtest/gtest.h>

#include "data/data_error.h"
#include "data/dicom/dicom_dataset.h"
#include "data/shard/packer.h"
#include "data/shard/shard_dataset.h"
#include "data/shard/shard_metadata.h"
#include "data/dicom/synthetic_dicom.h"
#include "tests/common/temp_dir.h"
#include "tests/data/shard/shard_test_util.h"

namespace medtrain::data::shard {
namespace {

using medtrain::testing::TempDir;
using medtrain::data::shard::testing::error_of;

class PackTargetsTest : public ::testing::Test {
 protected:
  // Demo data with masks: 2D slices, or series of 4 slices when `volumes`.
  std::string demo(bool volumes) {
    SyntheticOptions s;
    s.out_dir = dir_.str(volumes ? "vol" : "flat");
    s.count = volumes ? 16 : 24;
    s.patients = volumes ? 4 : 6;
    s.image_size = 32;
    s.masks = true;
    s.volumes = volumes;
    s.val_fraction = 0.25;
    return write_synthetic_dataset(s).manifest_path;
  }
  std::string pack(const std::string& manifest, const std::string& name, const std::string& target, bool volumes) {
    PackOptions p;
    p.manifest = manifest;
    p.out = dir_.str(name);
    p.shard_bytes = 4096;  // a record or two per shard: several shards
    p.workers = 2;
    p.target = target;
    p.volumes = volumes;
    pack_dataset(p);
    return p.out;
  }
  static DicomDatasetOptions preprocess(const std::string& manifest, const std::string& split, bool volume) {
    DicomDatasetOptions o;
    o.manifest = manifest;
    o.split = split;
    o.target = TargetKind::kMask;
    o.num_classes = 2;
    o.image_size = 24;  // resized at read time, from both sources
    o.window_center = -600;
    o.window_width = 1500;
    o.augment = split == "train";
    o.rotate_degrees = 15;
    o.min_crop = 0.8;
    o.intensity_jitter = 0.1;
    if (volume) {
      o.depth = 6;
      if (split == "train") o.patch_size = 16, o.patch_depth = 4;
    }
    return o;
  }
  static std::shared_ptr<ShardDataset> open(const std::string& dir, const DicomDatasetOptions& o) {
    ShardDatasetOptions so;
    so.dir = dir;
    so.split = o.split;
    so.preprocess = o;
    so.block_bytes = 8192;
    return open_shard_dataset(so);
  }
  static void expect_same_samples(const std::string& dir, const std::string& manifest, bool volume,
                                  double slice_spacing = 0, double pixel_spacing = 0) {
    for (const std::string split : {"train", "val"}) {
      DicomDatasetOptions o = preprocess(manifest, split, volume);
      o.slice_spacing = slice_spacing;
      o.pixel_spacing = pixel_spacing;
      const auto shards = open(dir, o);
      const auto files = open_dicom_dataset(o);
      ASSERT_EQ(shards->size(), files->size());
      ASSERT_GT(files->size(), 0u);
      for (size_t i = 0; i < files->size(); ++i) {
        for (const uint64_t seed : {7 * i, 7 * i + 1}) {
          const Sample a = shards->get(i, seed), b = files->get(i, seed);
          ASSERT_TRUE(torch::equal(a.image, b.image)) << split << " " << files->describe(i) << " seed " << seed;
          ASSERT_TRUE(torch::equal(a.target, b.target)) << split << " " << files->describe(i) << " seed " << seed;
        }
      }
    }
  }
  TempDir dir_{"medtrain_pack_targets"};
};

TEST_F(PackTargetsTest, SegmentationSlicesEqualDicomDatasetBitForBit) {
  const auto manifest = demo(false);
  const auto out = pack(manifest, "seg", "mask", false);
  const auto meta = read_metadata(out);
  EXPECT_EQ(meta.settings.target, "mask");
  EXPECT_FALSE(meta.settings.volumes);
  expect_same_samples(out, manifest, false);
}

TEST_F(PackTargetsTest, VolumesWithMasksEqualDicomDatasetBitForBit) {
  const auto manifest = demo(true);
  const auto out = pack(manifest, "vol", "mask", true);
  const auto meta = read_metadata(out);
  EXPECT_TRUE(meta.settings.volumes);
  EXPECT_GT(meta.shards.size(), 2u);
  expect_same_samples(out, manifest, true);
  // Patches come from the train split only, whole volumes from val.
  const auto train = open(out, preprocess(manifest, "train", true))->get(0, 3);
  EXPECT_EQ(train.image.sizes().vec(), (std::vector<int64_t>{1, 4, 16, 16}));
  EXPECT_EQ(train.target.sizes().vec(), (std::vector<int64_t>{4, 16, 16}));
  const auto val = open(out, preprocess(manifest, "val", true))->get(0, 3);
  EXPECT_EQ(val.image.sizes().vec(), (std::vector<int64_t>{1, 6, 24, 24}));
}

// data.slice_spacing / pixel_spacing: shards keep each series' voxel spacing,
// so the resample-and-crop gives the same samples as from the files.
TEST_F(PackTargetsTest, VolumesAtAFixedSpacingEqualDicomDatasetBitForBit) {
  const auto manifest = demo(true);
  const auto out = pack(manifest, "vol", "mask", true);
  expect_same_samples(out, manifest, true, 3.0, 9.0);
  auto o = preprocess(manifest, "val", true);
  o.slice_spacing = 3.0, o.pixel_spacing = 9.0;
  EXPECT_EQ(open(out, o)->get(0, 0).image.sizes().vec(), (std::vector<int64_t>{1, 6, 24, 24}));
}

TEST_F(PackTargetsTest, APackServesOnlyWhatItHolds) {
  const auto flat = demo(false);
  const auto vol = demo(true);
  const auto seg = pack(flat, "seg", "mask", false);
  const auto cls = pack(flat, "cls", "class", false);
  const auto volumes = pack(vol, "vol", "mask", true);
  auto o = preprocess(flat, "val", false);
  EXPECT_NE(error_of([&] { open(cls, o); }).find("cls/metadata.json: the pack holds class labels, no masks"),
            std::string::npos);
  o.target = TargetKind::kClass;
  EXPECT_NE(error_of([&] { open(seg, o); }).find("the pack holds segmentation masks; set model.task: segmentation"),
            std::string::npos);
  auto v = preprocess(vol, "val", true);
  EXPECT_NE(error_of([&] { open(seg, v); }).find("the pack holds 2D images; data.depth 6 needs volumes"),
            std::string::npos);
  v.depth = 0;
  EXPECT_NE(error_of([&] { open(volumes, v); }).find("the pack holds volumes (packed with --volumes)"),
            std::string::npos);
  // A mask class the model does not have: the record is named.
  auto one = preprocess(flat, "val", false);
  one.num_classes = 1;
  const auto ds = open(seg, one);
  std::string err;
  for (size_t i = 0; i < ds->size() && err.empty(); ++i) {
    try {
      ds->get(i, 0);
    } catch (const DataError& e) {
      err = e.what();
    }
  }
  EXPECT_NE(err.find(".shard: record "), std::string::npos) << err;
  EXPECT_NE(err.find("mask holds class 1 but model.num_classes is 1"), std::string::npos) << err;
}

TEST_F(PackTargetsTest, PackRefusesWhatItCannotPack) {
  const auto vol = demo(true);
  PackOptions p;
  p.manifest = vol;
  p.out = dir_.str("x");
  p.volumes = true;
  p.image_size = 16;
  EXPECT_NE(error_of([&] { pack_dataset(p); }).find("--image-size resizes 2D images"), std::string::npos);
  // Series folders without --volumes: the manifest line says what the path is.
  p.volumes = false;
  p.image_size = 0;
  const std::string folders = error_of([&] { pack_dataset(p); });
  EXPECT_NE(folders.find("manifest.csv:2: file images/P0000 is a folder (a series?"), std::string::npos) << folders;
  // --target mask needs the manifest's mask column.
  SyntheticOptions s;
  s.out_dir = dir_.str("plain");
  s.count = 8;
  s.patients = 2;
  s.image_size = 16;
  p.manifest = write_synthetic_dataset(s).manifest_path;
  p.target = "mask";
  EXPECT_NE(error_of([&] { pack_dataset(p); }).find("pack --target mask needs a 'mask' column"), std::string::npos);
}

}  // namespace
}  // namespace medtrain::data::shard
