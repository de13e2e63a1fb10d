// Saliency maps (models/cv/saliency.h) against pip MONAI 1.6.1 on the same
// torchvision weights and inputs (tests/models/saliency_reference.py, one
// run for the whole parity test: importing MONAI costs seconds): Grad-CAM
// for ResNet, DenseNet and EfficientNet, with and without a class index, to
// 1e-4 (ours is 1 minus MONAI's default_normalizer output: 1 = most
// important); occlusion sensitivity's probability map in three modes to
// 1e-4. Then the bad cases: architectures without a convolution layer to
// explain, bad class indices, inputs and options.
#include <c10/core/InferenceMode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>

#include "models/cv/saliency.h"
#include "models/pretrained/load_pretrained.h"
#include "models/registry.h"
#include "models/safetensors.h"
#include "tests/common/temp_dir.h"
#include "tests/models/reference_io.h"

namespace fs = std::filesystem;
using namespace medtrain::models;
using medtrain::testing::find_tensor;

namespace {

// saliency_reference.py's files, under <dir>/gradcam and <dir>/occlusion.
void make_saliency_reference(const medtrain::testing::TempDir& dir) {
  const std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR +
                          "/tests/models/saliency_reference.py " + dir.str() + " gradcam occlusion";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("reference failed: " + cmd);
}

std::shared_ptr<ImageModel> load_model(const fs::path& dir, const std::string& arch, int64_t classes,
                                       int64_t channels) {
  auto model = create_model({arch, classes, channels});
  pretrained::load_pretrained(*model, dir / "weights.safetensors");
  model->eval();
  return model;
}

double max_abs(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// MONAI's default_normalizer maps each sample's max to 0 and min to 1; the
// references are chosen so that no map is constant (which MONAI leaves as is).
torch::Tensor from_monai(const torch::Tensor& monai_map) { return 1.0 - monai_map; }

void expect_spread(const torch::Tensor& maps) {  // every sample spans [0, 1]: a map that can be wrong
  for (int64_t i = 0; i < maps.size(0); ++i) {
    EXPECT_NEAR(maps[i].min().item<double>(), 0.0, 1e-6) << "sample " << i;
    EXPECT_NEAR(maps[i].max().item<double>(), 1.0, 1e-6) << "sample " << i;
  }
}

void expect_grad_cam_as_monai(const fs::path& ref) {
  for (const std::string arch : {"resnet18", "densenet121", "efficientnet_b0"}) {
    SCOPED_TRACE(arch);
    const fs::path dir = ref / arch;
    auto model = load_model(dir, arch, 4, 3);
    const auto io = load_safetensors(dir / "io.safetensors").tensors;
    const torch::Tensor x = find_tensor(io, "input");

    const torch::Tensor want_argmax = from_monai(find_tensor(io, "cam_argmax"));
    expect_spread(want_argmax);
    const torch::Tensor got_argmax = cv::grad_cam(*model, arch, x);
    ASSERT_EQ(got_argmax.sizes(), want_argmax.sizes());
    EXPECT_LE(max_abs(got_argmax, want_argmax), 1e-4);

    // Explicit class; the model left in training mode must come back so,
    // and must have been explained in eval mode (random BN statistics).
    const torch::Tensor want_class = from_monai(find_tensor(io, "cam_class"));
    const int64_t k = find_tensor(io, "class").item<int64_t>();
    expect_spread(want_class);
    model->train();
    EXPECT_LE(max_abs(cv::grad_cam(*model, arch, x, k), want_class), 1e-4);
    EXPECT_TRUE(model->is_training());
  }
}

void expect_occlusion_as_monai(const fs::path& dir) {
  auto model = load_model(dir, "resnet18", 3, 1);
  const auto io = load_safetensors(dir / "io.safetensors").tensors;
  const torch::Tensor x = find_tensor(io, "input");
  struct Setting {
    std::string name;
    cv::OcclusionOptions options;
  };
  for (const auto& s : {Setting{"gaussian", {16, 0.6, cv::OcclusionMode::gaussian, 16}},
                        Setting{"mean_img", {12, 0.5, cv::OcclusionMode::mean_img, 7}},
                        Setting{"mean_patch", {10, 0.0, cv::OcclusionMode::mean_patch, 5}}}) {
    SCOPED_TRACE(s.name);
    const torch::Tensor want = find_tensor(io, s.name);
    const torch::Tensor got = cv::occlusion_probabilities(*model, x, s.options);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_GT((want.amax() - want.amin()).item<double>(), 1e-3);  // the patches change the prediction
    EXPECT_LE(max_abs(got, want), 1e-4);
  }
  // occlusion(): the class's probability map p as (max p - p) / (max p - min p).
  const torch::Tensor p = find_tensor(io, "gaussian");
  torch::Tensor predicted;
  {
    torch::NoGradGuard no_grad;
    predicted = model->forward(x).argmax(1);
  }
  for (const int64_t c : {predicted.item<int64_t>(), int64_t{2}}) {
    SCOPED_TRACE(c);
    const torch::Tensor pc = p.slice(1, c, c + 1);
    const torch::Tensor want = (pc.max() - pc) / (pc.max() - pc.min());
    const std::optional<int64_t> index = c == predicted.item<int64_t>() ? std::nullopt : std::optional<int64_t>(c);
    EXPECT_LE(max_abs(cv::occlusion(*model, x, index), want), 1e-4);
  }
}

TEST(Saliency, MatchesMonaiOnTheSameWeights) {
  medtrain::testing::TempDir ref("medtrain_saliency_ref");
  make_saliency_reference(ref);
  expect_grad_cam_as_monai(ref.path() / "gradcam");
  expect_occlusion_as_monai(ref.path() / "occlusion" / "resnet18");
}

template <typename E>
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

TEST(Saliency, TargetLayersPerArchitecture) {
  for (const auto& info : model_zoo()) {
    if (info.task != "classification") continue;
    const std::string want = info.family == "ResNet"     ? "layer4"
                             : info.family == "DenseNet" ? "features.norm5"
                                                         : "features";
    EXPECT_EQ(cv::grad_cam_layer(info.name), want) << info.name;
  }
}

TEST(Saliency, ArchitecturesWithoutAConvolutionLayerAreRefusedByName) {
  for (const std::string arch : {"bert", "whisper", "unet2d", "unet3d"}) {
    const std::string m = message_of<std::invalid_argument>([&] { cv::grad_cam_layer(arch); });
    EXPECT_NE(m.find("'" + arch + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("resnet18"), std::string::npos) << m;  // says which can be explained
  }
  EXPECT_NE(message_of<std::invalid_argument>([] { cv::grad_cam_layer("unet2d"); }).find("segmentation"),
            std::string::npos);
  auto unet = create_model({"unet2d", 2, 1});
  const std::string m =
      message_of<std::invalid_argument>([&] { cv::grad_cam(*unet, "unet2d", torch::zeros({1, 1, 32, 32})); });
  EXPECT_NE(m.find("'unet2d'"), std::string::npos) << m;
}

TEST(Saliency, BadClassIndexInputAndModeAreRefused) {
  torch::manual_seed(3);
  auto model = create_model({"resnet18", 3, 1});
  model->eval();
  const torch::Tensor x = torch::randn({1, 1, 32, 32});
  EXPECT_NE(message_of<std::invalid_argument>([&] { cv::grad_cam(*model, "resnet18", x, 3); })
                .find("class index 3 is out of range for 3 classes"),
            std::string::npos);
  EXPECT_NE(message_of<std::invalid_argument>([&] { cv::occlusion(*model, x, -1); }).find("class index -1"),
            std::string::npos);
  EXPECT_NE(message_of<std::invalid_argument>([&] { cv::grad_cam(*model, "resnet18", torch::randn({1, 32})); })
                .find("[N, C, *spatial]"),
            std::string::npos);
  EXPECT_NE(message_of<std::invalid_argument>([&] { cv::grad_cam(*model, "densenet121", x); }).find("densenet121"),
            std::string::npos);  // a ResNet is not the DenseNet named
  EXPECT_NE(message_of<std::logic_error>([&] {
              c10::InferenceMode guard;
              cv::grad_cam(*model, "resnet18", x);
            }).find("InferenceMode"),
            std::string::npos);
  EXPECT_NE(message_of<std::invalid_argument>([&] { cv::occlusion(*model, x, std::nullopt, {33, 0.6}); })
                .find("mask_size 33 is larger than the image"),
            std::string::npos);
  EXPECT_NE(message_of<std::invalid_argument>([&] { cv::occlusion(*model, x, std::nullopt, {8, 1.0}); })
                .find("overlap must be in [0, 1)"),
            std::string::npos);
  cv::OcclusionOptions no_batch;
  no_batch.n_batch = 0;
  EXPECT_NE(message_of<std::invalid_argument>([&] { cv::occlusion(*model, x, std::nullopt, no_batch); })
                .find("n_batch must be >= 1"),
            std::string::npos);
  EXPECT_NE(message_of<std::invalid_argument>([] { cv::occlusion_mode("cubic"); }).find("'cubic'"),
            std::string::npos);
  EXPECT_EQ(cv::occlusion_mode("mean_patch"), cv::OcclusionMode::mean_patch);
}

}  // namespace
