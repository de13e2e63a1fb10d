// DicomDataset targets for the three tasks, on demo data written with its
// masks, lung labels and series: the multi-hot vector follows the manifest's
// labels column (parsed here independently), masks are resized with nearest
// neighbour (the index rule written out by hand) and flipped with the image,
// and a volume sample is the 2D preprocessing of each slice, in the series'
// order, when no resizing is involved. Bad masks and missing columns are
// DataErrors naming the file.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "data/data_error.h"
#include "data/dicom/dicom_dataset.h"
#include "data/dicom/dicom_image.h"
#include "data/dicom/mask_file.h"
#include "data/npy_reader.h"
#include "data/npy_writer.h"
#include "data/dicom/synthetic_dicom.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

using testing::TempDir;

std::vector<std::vector<std::string>> csv_rows(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::vector<std::vector<std::string>> rows;
  while (std::getline(in, line)) rows.push_back(split_csv_line(line));
  return rows;
}

size_t column(const std::vector<std::string>& header, const std::string& name) {
  return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
}

class TargetsTest : public ::testing::Test {
 protected:
  SyntheticSummary demo(SyntheticOptions o) {
    o.out_dir = dir_.str("demo");
    o.image_size = 32;
    o.transfer_syntaxes = {TransferSyntax::kExplicitVrLittleEndian};
    return write_synthetic_dataset(o);
  }
  DicomDatasetOptions options(TargetKind target, int64_t classes) const {
    DicomDatasetOptions o;
    o.manifest = dir_.str("demo/manifest.csv");
    o.target = target;
    o.num_classes = classes;
    o.image_size = 16;
    return o;
  }
  // 3 patients' series of 4 slices of 32 x 32 with masks, read without resizing.
  DicomDatasetOptions volume_demo() {
    SyntheticOptions s;
    s.count = 12, s.patients = 3, s.masks = true, s.volumes = true, s.val_fraction = 0;
    demo(s);
    auto o = options(TargetKind::kMask, 2);
    o.depth = 4;
    o.image_size = 32;
    return o;
  }
  TempDir dir_;
};

TEST_F(TargetsTest, MultiHotFollowsTheLabelsColumn) {
  SyntheticOptions s;
  s.count = 24, s.patients = 6, s.multilabel = true;
  demo(s);
  auto o = options(TargetKind::kMultiLabel, 2);
  o.label_names = {"right_lung_lesion", "left_lung_lesion"};
  const auto ds = open_dicom_dataset(o);
  const auto rows = csv_rows(o.manifest);
  const size_t labels = column(rows[0], "labels");
  ASSERT_EQ(ds->size(), rows.size() - 1);
  for (size_t i = 0; i < ds->size(); ++i) {
    const std::string& field = rows[i + 1][labels];
    const auto t = ds->get(i, 0).target;
    ASSERT_EQ(t.sizes().vec(), (std::vector<int64_t>{2}));
    EXPECT_EQ(t[0].item<float>(), field.find("right_lung_lesion") != std::string::npos ? 1.f : 0.f) << field;
    EXPECT_EQ(t[1].item<float>(), field.find("left_lung_lesion") != std::string::npos ? 1.f : 0.f) << field;
  }
}

TEST_F(TargetsTest, MasksAreResizedNearestAndFlippedWithTheImage) {
  SyntheticOptions s;
  s.count = 12, s.patients = 3, s.masks = true, s.positive_fraction = 1.0;
  demo(s);
  auto o = options(TargetKind::kMask, 2);
  const auto ds = open_dicom_dataset(o);
  const auto rows = csv_rows(o.manifest);
  const size_t mask_col = column(rows[0], "mask");
  for (size_t i = 0; i < ds->size(); ++i) {
    const auto full = read_npy_as_int64(dir_.str("demo/" + rows[i + 1][mask_col]));  // [32, 32]
    const auto t = ds->get(i, 0).target;
    ASSERT_EQ(t.sizes().vec(), (std::vector<int64_t>{16, 16}));
    for (int64_t r = 0; r < 16; ++r) {
      for (int64_t c = 0; c < 16; ++c) {  // nearest: source index floor(dst * in / out)
        ASSERT_EQ(t[r][c].item<int64_t>(), full[r * 2][c * 2].item<int64_t>()) << i << " " << r << " " << c;
      }
    }
    EXPECT_GT(t.sum().item<int64_t>(), 0);  // every slice has a lesion here
  }
  o.augment = true;
  o.flip_probability = 1.0;
  o.intensity_jitter = 0.0;
  const auto flipped = open_dicom_dataset(o)->get(0, 7);
  const auto plain = ds->get(0, 7);
  EXPECT_TRUE(torch::equal(flipped.target, plain.target.flip({1})));
  EXPECT_TRUE(torch::allclose(flipped.image, plain.image.flip({2})));
}

TEST_F(TargetsTest, RotationAndCropWarpImageAndMaskAlike) {
  SyntheticOptions s;
  s.count = 8, s.patients = 2, s.masks = true, s.positive_fraction = 1.0;
  demo(s);
  auto o = options(TargetKind::kMask, 2);
  const auto plain = open_dicom_dataset(o)->get(0, 0);
  o.augment = true;
  o.flip_probability = 0.0;
  o.intensity_jitter = 0.0;
  o.rotate_degrees = 25;
  o.min_crop = 0.6;
  const auto ds = open_dicom_dataset(o);
  bool moved = false;
  for (uint64_t seed : {1u, 2u, 3u}) {
    const Augmentation a = draw_augmentation(seed, o);
    ASSERT_FALSE(a.warp.identity());
    const auto warped = ds->get(0, seed);
    // The sample is the unaugmented one, warped once by the drawn warp.
    EXPECT_TRUE(torch::allclose(warped.image, warp_image(plain.image.unsqueeze(0), a.warp)[0], 1e-5, 1e-5));
    EXPECT_TRUE(torch::equal(warped.target, warp_mask(plain.target, a.warp)));
    moved |= !torch::equal(warped.target, plain.target);
  }
  EXPECT_TRUE(moved);
  o.rotate_degrees = 181;
  EXPECT_THROW(open_dicom_dataset(o), DataError);
  o.rotate_degrees = 0, o.min_crop = 0;
  EXPECT_THROW(open_dicom_dataset(o), DataError);
}

TEST_F(TargetsTest, VolumeIsTheSlicesInSeriesOrder) {
  auto o = volume_demo();  // 4 slices of 32 x 32: no resizing
  const auto ds = open_dicom_dataset(o);
  ASSERT_EQ(ds->size(), 3u);
  const auto sample = ds->get(1, 0);
  ASSERT_EQ(sample.image.sizes().vec(), (std::vector<int64_t>{1, 4, 32, 32}));
  ASSERT_EQ(sample.target.sizes().vec(), (std::vector<int64_t>{4, 32, 32}));
  for (int k = 0; k < 4; ++k) {
    // The demo writes slice_00k at z = -2.5 k mm; the series runs along +z,
    // so slice_004 comes first.
    const std::string file = dir_.str("demo/images/P0001/slice_00" + std::to_string(4 - k) + ".dcm");
    const auto expected = preprocess_hu(grey_frame(read_dicom_image(file), 0), o);
    EXPECT_TRUE(torch::allclose(sample.image[0][k], expected[0], 1e-5, 1e-5)) << "slice " << k;
  }
  const auto mask = read_npy_as_int64(dir_.str("demo/masks/P0001.npy"));
  EXPECT_TRUE(torch::equal(sample.target, mask));  // the demo writes masks in volume order
}

void expect_data_error(const std::function<void()>& fn, const std::string& part);

// data.slice_spacing / pixel_spacing: the fitted volume has the configured
// shape, and its mask still sits on the lesion (brighter than the voxels
// around it in the lung window) after both are resampled and cropped.
TEST_F(TargetsTest, VolumesAtAFixedSpacingKeepTheirMaskOnTheLesion) {
  auto o = volume_demo();
  o.depth = 6;
  o.image_size = 24;
  o.slice_spacing = 2.0;
  o.pixel_spacing = 12.0;
  o.window_center = -600;
  o.window_width = 1500;
  const auto ds = open_dicom_dataset(o);
  int with_lesion = 0;
  for (size_t i = 0; i < ds->size(); ++i) {
    const auto s = ds->get(i, 0);
    ASSERT_EQ(s.image.sizes().vec(), (std::vector<int64_t>{1, 6, 24, 24}));
    ASSERT_EQ(s.target.sizes().vec(), (std::vector<int64_t>{6, 24, 24}));
    const auto lesion = s.target == 1;
    if (lesion.sum().item<int64_t>() < 3) continue;
    ++with_lesion;
    const auto image = s.image[0];
    const auto body = image > image.min();  // not padding
    const double inside = image.masked_select(lesion).mean().item<double>();
    const double outside = image.masked_select(body & ~lesion).mean().item<double>();
    EXPECT_GT(inside, outside + 0.05) << ds->describe(i);
  }
  EXPECT_GT(with_lesion, 0);
  o.pixel_spacing = 0;
  expect_data_error([&] { open_dicom_dataset(o); }, "slice_spacing and pixel_spacing must both be 0");
}

TEST_F(TargetsTest, TrainingPatchesAreBlocksOfTheWholeVolumeAndItsMask) {
  auto o = volume_demo();
  const auto whole = open_dicom_dataset(o)->get(1, 0);
  o.patch_depth = 2;
  o.patch_size = 16;
  const auto patches = open_dicom_dataset(o);
  std::set<std::vector<int64_t>> origins;
  for (uint64_t seed = 0; seed < 12; ++seed) {
    const auto p = patches->get(1, seed);
    ASSERT_EQ(p.image.sizes().vec(), (std::vector<int64_t>{1, 2, 16, 16}));
    ASSERT_EQ(p.target.sizes().vec(), (std::vector<int64_t>{2, 16, 16}));
    // Find the block by brute force, not from the drawn origin.
    bool found = false;
    for (int64_t z = 0; z <= 2 && !found; ++z) {
      for (int64_t y = 0; y <= 16 && !found; ++y) {
        for (int64_t x = 0; x <= 16 && !found; ++x) {
          const auto block = whole.image.narrow(1, z, 2).narrow(2, y, 16).narrow(3, x, 16);
          if (!torch::equal(block, p.image)) continue;
          found = true;
          origins.insert({z, y, x});
          EXPECT_TRUE(torch::equal(whole.target.narrow(0, z, 2).narrow(1, y, 16).narrow(2, x, 16), p.target));
        }
      }
    }
    EXPECT_TRUE(found) << "seed " << seed;
  }
  EXPECT_GT(origins.size(), 3u);  // the origin follows the seed
  o.patch_size = 33;
  expect_data_error([&] { open_dicom_dataset(o); }, "patch_size must be 0 or in 1..image_size 32");
  o.patch_size = 16, o.patch_depth = 5;
  expect_data_error([&] { open_dicom_dataset(o); }, "patch_depth must be in 0..depth 4");
}

void expect_data_error(const std::function<void()>& fn, const std::string& part) {
  try {
    fn();
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST_F(TargetsTest, BadMasksAndMissingColumns) {
  SyntheticOptions s;
  s.count = 4, s.patients = 2, s.masks = true;
  demo(s);
  // A class outside model.num_classes, named with the file.
  const std::vector<uint8_t> three(32 * 32, 3);
  write_npy_u8(dir_.str("demo/masks/P0000/slice_001.npy"), three.data(), {32, 32});
  const auto ds = open_dicom_dataset(options(TargetKind::kMask, 2));
  expect_data_error([&] { ds->get(0, 0); }, "masks/P0000/slice_001.npy: mask holds class 3 but model.num_classes is 2");
  write_npy_u8(dir_.str("demo/masks/P0000/slice_001.npy"), three.data(), {4, 16, 16});
  expect_data_error([&] { ds->get(0, 0); }, "slice_001.npy: mask has shape [4, 16, 16], expected [H, W]");
  expect_data_error([&] { open_dicom_dataset(options(TargetKind::kMultiLabel, 2)); },
                    "model.task multilabel needs a 'labels' column");
  auto vol = options(TargetKind::kMask, 2);
  vol.depth = 4;
  expect_data_error([&] { open_dicom_dataset(vol); },
                    "series folder images/P0000/slice_001.dcm is a file, not a series folder (2D images: data.depth 0)");
}

}  // namespace
}  // namespace medtrain::data
