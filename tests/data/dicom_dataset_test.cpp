// DicomDataset: the preprocessed sample equals an independent computation on
// the decoded HU image (window, normalize with plain loops; resize with a
// brute-force separable triangle filter, the definition of antialiased
// bilinear with align_corners=false); augmentation depends on the seed only.
#include "data/dicom/dicom_dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "data/batch_loader.h"
#include "data/data_error.h"
#include "data/dicom/dicom_image.h"
#include "data/dicom/synthetic_dicom.h"
#include "tests/data/test_files.h"

namespace medtrain::data {
namespace {

using testing::TempDir;

// weights[o] = (first input index, weights) of output o for a 1-D resize in -> out.
std::vector<std::pair<int64_t, std::vector<double>>> resize_weights(int64_t in, int64_t out) {
  const double scale = static_cast<double>(in) / out;
  const double support = std::max(scale, 1.0);  // the triangle widens when shrinking
  std::vector<std::pair<int64_t, std::vector<double>>> w;
  for (int64_t o = 0; o < out; ++o) {
    const double center = scale * (o + 0.5);
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in);
    std::vector<double> ws;
    double sum = 0;
    for (int64_t j = lo; j < hi; ++j) {
      const double x = (j + 0.5 - center) / support;
      ws.push_back(std::max(0.0, 1.0 - std::abs(x)));
      sum += ws.back();
    }
    for (double& v : ws) v /= sum;
    w.emplace_back(lo, ws);
  }
  return w;
}

// The whole preprocessing, written out by hand on a [H, W] HU image.
torch::Tensor reference(const torch::Tensor& hu, const DicomDatasetOptions& o, const Augmentation& a) {
  const int64_t h = hu.size(0), w = hu.size(1), s = o.image_size;
  auto in = hu.accessor<float, 2>();
  std::vector<double> x(static_cast<size_t>(h * w));
  for (int64_t r = 0; r < h; ++r) {
    for (int64_t c = 0; c < w; ++c) {
      double v = (in[r][c] - (o.window_center - o.window_width / 2)) / o.window_width;
      v = std::min(1.0, std::max(0.0, v)) * a.scale + a.offset;
      x[r * w + c] = (v - o.mean) / o.std;
    }
  }
  const auto wr = resize_weights(h, s), wc = resize_weights(w, s);
  torch::Tensor out = torch::empty({1, s, s}, torch::kFloat32);
  for (int64_t r = 0; r < s; ++r) {
    for (int64_t c = 0; c < s; ++c) {
      double acc = 0;
      for (size_t i = 0; i < wr[r].second.size(); ++i) {
        for (size_t j = 0; j < wc[c].second.size(); ++j) {
          acc += wr[r].second[i] * wc[c].second[j] * x[(wr[r].first + i) * w + wc[c].first + j];
        }
      }
      out[0][r][a.flip ? s - 1 - c : c] = static_cast<float>(acc);
    }
  }
  return out;
}

class DicomDatasetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    SyntheticOptions o;
    o.out_dir = dir_->str();
    o.count = 6;
    o.patients = 3;
    o.image_size = 96;
    o.val_fraction = 0.34;
    o.seed = 5;
    write_synthetic_dataset(o);
  }
  static void TearDownTestSuite() { delete dir_; }
  DicomDatasetOptions options(int64_t size) const {
    DicomDatasetOptions o;
    o.manifest = dir_->str("manifest.csv");
    o.image_size = size;
    o.window_center = -600;
    o.window_width = 1500;
    o.mean = 0.3;
    o.std = 0.25;
    return o;
  }
  static TempDir* dir_;
};
TempDir* DicomDatasetTest::dir_ = nullptr;

TEST_F(DicomDatasetTest, MatchesIndependentComputation) {
  for (int64_t size : {32, 96, 128}) {  // shrink (antialiased), same size, grow
    const auto ds = open_dicom_dataset(options(size));
    ASSERT_EQ(ds->size(), 6u);
    for (size_t i : {0, 1, 2}) {
      const Sample s = ds->get(i, 123);
      const torch::Tensor hu = read_dicom_image(ds->describe(i)).pixels[0].contiguous();
      const torch::Tensor want = reference(hu, options(size), {});
      ASSERT_EQ(s.image.sizes(), want.sizes());
      EXPECT_LT((s.image - want).abs().max().item<float>(), 1e-4) << "size " << size << " sample " << i;
      EXPECT_EQ(s.target.item<int64_t>(), ds->label(i));
      EXPECT_EQ(s.target.dim(), 0);
    }
  }
}

TEST_F(DicomDatasetTest, AugmentationIsAPureFunctionOfTheSeed) {
  DicomDatasetOptions o = options(32);
  o.augment = true;
  o.intensity_jitter = 0.1;
  const auto ds = open_dicom_dataset(o);
  const torch::Tensor hu = read_dicom_image(ds->describe(0)).pixels[0].contiguous();
  int flips = 0;
  for (uint64_t seed = 0; seed < 16; ++seed) {
    const Augmentation a = draw_augmentation(seed, o);
    flips += a.flip;
    EXPECT_LE(std::abs(a.scale - 1.0), 0.1);
    EXPECT_LE(std::abs(a.offset), 0.1);
    torch::Tensor other;
    std::thread t([&] { other = ds->get(0, seed).image; });  // another thread, same result
    const torch::Tensor here = ds->get(0, seed).image;
    t.join();
    EXPECT_TRUE(torch::equal(here, other)) << "seed " << seed;
    EXPECT_LT((here - reference(hu, o, a)).abs().max().item<float>(), 1e-4) << "seed " << seed;
  }
  EXPECT_GT(flips, 2);
  EXPECT_LT(flips, 14);
  EXPECT_FALSE(torch::equal(ds->get(0, 1).image, ds->get(0, 2).image));
}

// Concurrent decoding of different files (all three transfer syntaxes) gives
// what sequential decoding gives.
TEST_F(DicomDatasetTest, ThreadedLoaderMatchesSequential) {
  DicomDatasetOptions o = options(32);
  o.augment = true;
  const auto ds = open_dicom_dataset(o);
  const std::vector<size_t> idx = {5, 3, 1, 0, 2, 4, 1, 3, 5, 0, 2, 4};
  auto run = [&](size_t workers) {
    LoaderOptions lo;
    lo.batch_size = 4;
    lo.workers = workers;
    lo.seed = 17;
    BatchLoader loader(ds, idx, lo);
    std::vector<Batch> out;
    while (auto b = loader.next()) out.push_back(std::move(*b));
    return out;
  };
  const std::vector<Batch> seq = run(0), par = run(4);
  ASSERT_EQ(seq.size(), 3u);
  ASSERT_EQ(par.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_TRUE(torch::equal(seq[k].images, par[k].images)) << "batch " << k;
    EXPECT_TRUE(torch::equal(seq[k].targets, par[k].targets)) << "batch " << k;
    for (size_t j = 0; j < 4; ++j) {
      const size_t i = idx[k * 4 + j];
      EXPECT_TRUE(torch::equal(seq[k].images[j], ds->get(i, sample_seed(17, 0, i)).image));
    }
  }
}

TEST_F(DicomDatasetTest, SplitsAndDescribe) {
  DicomDatasetOptions o = options(32);
  o.split = "val";
  const auto val = open_dicom_dataset(o);
  o.split = "train";
  const auto train = open_dicom_dataset(o);
  EXPECT_EQ(val->size() + train->size(), 6u);
  EXPECT_GT(val->size(), 0u);
  EXPECT_EQ(train->describe(0), (dir_->path() / train->manifest().rows[0].path).string());
}

TEST_F(DicomDatasetTest, BadOptionsAndBadFile) {
  DicomDatasetOptions o = options(32);
  o.window_width = 0;
  try {
    open_dicom_dataset(o);
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("window_width must be > 0"), std::string::npos) << e.what();
  }
  // A manifest row whose file is corrupt: get() names that file.
  TempDir dir;
  testing::write_text(dir.path() / "bad.dcm", "not dicom at all");
  testing::write_text(dir.path() / "manifest.csv", "path,label\nbad.dcm,1\n");
  DicomDatasetOptions b = options(32);
  b.manifest = dir.str("manifest.csv");
  const auto ds = open_dicom_dataset(b);
  try {
    ds->get(0, 0);
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.str("bad.dcm") + ": not a DICOM file"), std::string::npos) << e.what();
  }
}

// window_from_file: a file's own window wins over the configured one; a file
// without one keeps the configured window. Colour files train on their luma.
TEST_F(DicomDatasetTest, WindowFromFileAndColour) {
  TempDir dir;
  testing::RawDicom w;
  w.rows = 8, w.cols = 8, w.window_center = "120", w.window_width = "90";
  for (int i = 0; i < 64; ++i) w.values.push_back(static_cast<uint16_t>(i * 4));
  testing::write_raw_dicom(dir.str("win.dcm"), w);
  testing::RawDicom plain = w;
  plain.window_center = plain.window_width = "";
  testing::write_raw_dicom(dir.str("plain.dcm"), plain);
  testing::RawDicom rgb;
  rgb.rows = 8, rgb.cols = 8, rgb.bits_allocated = 8, rgb.bits_stored = 8, rgb.photometric = "RGB";
  rgb.samples_per_pixel = 3;
  for (int i = 0; i < 64 * 3; ++i) rgb.values.push_back(static_cast<uint16_t>((i * 37) % 256));
  testing::write_raw_dicom(dir.str("rgb.dcm"), rgb);
  testing::write_text(dir.path() / "manifest.csv", "path,label\nwin.dcm,1\nplain.dcm,0\nrgb.dcm,0\n");
  DicomDatasetOptions o = options(8);
  o.manifest = dir.str("manifest.csv");
  o.window_from_file = true;
  const auto ds = open_dicom_dataset(o);
  DicomDatasetOptions file_window = o;
  file_window.window_center = 120, file_window.window_width = 90;
  const torch::Tensor hu = read_dicom_image(dir.str("win.dcm")).pixels[0].contiguous();
  EXPECT_LT((ds->get(0, 0).image - reference(hu, file_window, {})).abs().max().item<float>(), 1e-5);
  EXPECT_LT((ds->get(1, 0).image - reference(hu, o, {})).abs().max().item<float>(), 1e-5);
  // Luma by hand from the stored RGB bytes (planar 0: R, G, B per pixel).
  torch::Tensor luma = torch::empty({8, 8});
  for (int p = 0; p < 64; ++p) {
    luma.view({-1})[p] = 0.299f * rgb.values[3 * p] + 0.587f * rgb.values[3 * p + 1] + 0.114f * rgb.values[3 * p + 2];
  }
  EXPECT_LT((ds->get(2, 0).image - reference(luma, o, {})).abs().max().item<float>(), 1e-4);
}

}  // namespace
}  // namespace medtrain::data
