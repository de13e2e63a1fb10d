// Sliding-window inference against MONAI 1.6.1's sliding_window_inference
// (sliding_window_reference.py): the same small conv model, weights and inputs,
// constant and Gaussian blending, padding, window batches; and the streaming
// contract (slabs in order, covering the volume once) and the bad options.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <stdexcept>

#include "models/safetensors.h"
#include "tests/common/python_reference.h"
#include "models/cv/window_geometry.h"
#include "trainer/export/sliding_window.h"

namespace medtrain::exporter {
namespace {

struct Case {
  std::array<int64_t, 3> roi;
  double overlap;
  BlendMode mode;
  int64_t sw_batch;
  double cval;
};

// Mirrors CASES in sliding_window_reference.py.
const std::vector<Case> kCases = {
    {{8, 10, 12}, 0.25, BlendMode::kConstant, 1, 0.0},
    {{8, 10, 12}, 0.5, BlendMode::kGaussian, 3, 0.0},
    {{8, 10, 12}, 0.25, BlendMode::kGaussian, 4, 0.5},
    {{8, 10, 12}, 0.0, BlendMode::kConstant, 2, 0.0},
    {{5, 6, 7}, 0.6, BlendMode::kGaussian, 5, 0.0},
};

const std::filesystem::path& reference() {
  return medtrain::testing::python_reference("tests/trainer/export/sliding_window_reference.py");
}

WindowPredictor conv_model(const models::SafetensorsFile& w) {
  using medtrain::testing::tensor_named;
  const auto w1 = tensor_named(w, "w1"), b1 = tensor_named(w, "b1");
  const auto w2 = tensor_named(w, "w2"), b2 = tensor_named(w, "b2");
  return [=](const at::Tensor& x) {
    return torch::conv3d(torch::relu(torch::conv3d(x, w1, b1, 1, 1)), w2, b2);
  };
}

SlidingWindowOptions options_of(const Case& c) {
  SlidingWindowOptions o;
  o.roi = c.roi;
  o.overlap = c.overlap;
  o.mode = c.mode;
  o.sw_batch = c.sw_batch;
  o.cval = c.cval;
  return o;
}

TEST(SlidingWindow, EqualsMonaiSlidingWindowInference) {
  const auto weights = models::load_safetensors(reference() / "weights.safetensors");
  const auto io = models::load_safetensors(reference() / "io.safetensors");
  const WindowPredictor model = conv_model(weights);
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < kCases.size(); ++k) {
    SCOPED_TRACE("case " + std::to_string(k));
    const auto x = medtrain::testing::tensor_named(io, "input_" + std::to_string(k));
    const auto expected = medtrain::testing::tensor_named(io, "output_" + std::to_string(k));
    const at::Tensor got = sliding_window(x, model, options_of(kCases[k]));
    ASSERT_EQ(got.sizes(), expected.sizes());
    const double err = (got - expected).abs().max().item<double>();
    EXPECT_LE(err, 1e-5) << "max |medtrain - MONAI|";
  }
}

TEST(SlidingWindow, SlabsComeInOrderAndCoverTheVolumeOnce) {
  const at::Tensor x = torch::randn({2, 1, 40, 9, 11});
  SlidingWindowOptions o;
  o.roi = {8, 9, 11};
  std::vector<std::pair<int64_t, int64_t>> seen;  // image, z0
  int64_t next[2] = {0, 0}, largest = 0;
  sliding_window_slabs(x, [](const at::Tensor& w) { return w * 2; }, o,
                       [&](int64_t image, int64_t z0, const at::Tensor& slab) {
                         EXPECT_EQ(z0, next[image]);
                         next[image] += slab.size(2);
                         largest = std::max(largest, slab.size(2));
                         EXPECT_TRUE(torch::allclose(slab, x.narrow(0, image, 1).narrow(2, z0, slab.size(2)) * 2));
                       });
  EXPECT_EQ(next[0], 40);
  EXPECT_EQ(next[1], 40);
  EXPECT_LE(largest, 8) << "streamed: never more than one ROI depth at a time";
}

TEST(SlidingWindow, WindowStartsFollowMonai) {
  // _get_scan_interval + dense_patch_slices: interval int(12 * 0.75) = 9,
  // the last window moved back to end at 30.
  EXPECT_EQ(models::cv::window_starts(30, 12, 0.25), (std::vector<int64_t>{0, 9, 18}));
  EXPECT_EQ(models::cv::window_starts(12, 12, 0.25), (std::vector<int64_t>{0}));
  EXPECT_EQ(models::cv::window_starts(5, 12, 0.25), (std::vector<int64_t>{0}));  // padded to the ROI
  EXPECT_EQ(models::cv::window_starts(3, 1, 0.9), (std::vector<int64_t>{0, 1, 2}));  // interval 0 -> 1
}

TEST(SlidingWindow, RefusesBadOptionsAndAModelThatChangesTheSize) {
  const at::Tensor x = torch::zeros({1, 1, 8, 8, 8});
  const WindowPredictor same = [](const at::Tensor& w) { return w; };
  SlidingWindowOptions o;
  o.roi = {4, 4, 4};
  auto with = [&](auto change) {
    SlidingWindowOptions b = o;
    change(b);
    return b;
  };
  EXPECT_THROW(sliding_window(x, same, with([](auto& b) { b.overlap = 1.0; })), std::invalid_argument);
  EXPECT_THROW(sliding_window(x, same, with([](auto& b) { b.roi[1] = 0; })), std::invalid_argument);
  EXPECT_THROW(sliding_window(x, same, with([](auto& b) { b.sw_batch = 0; })), std::invalid_argument);
  EXPECT_THROW(sliding_window(x.view({8, 8, 8}), same, o), std::invalid_argument);
  const WindowPredictor halves = [](const at::Tensor& w) { return w.narrow(2, 0, 2); };
  EXPECT_THROW(sliding_window(x, halves, o), std::invalid_argument);
  EXPECT_THROW(blend_mode_from("linear", "--sw-mode"), std::exception);
}

}  // namespace
}  // namespace medtrain::exporter
