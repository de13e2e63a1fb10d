// choose_preprocess: image runs preprocess on the device exactly when the
// fused kernels are on and the configuration needs nothing preprocess_images
// lacks (resize of volumes, rotation, zoomed crops); the message names the key.
#include "trainer/engine/preprocess_choice.h"

#include <gtest/gtest.h>

namespace medtrain::engine {
namespace {

KernelChoice fused() { return choose_kernels(true, c10::Device(c10::kCUDA, 0)); }

bool says(const PreprocessChoice& c, const std::string& what) { return c.message.find(what) != std::string::npos; }

TEST(PreprocessChoice, FusedImageRunOnCudaPreprocessesOnTheDevice) {
  config::Config cfg;
  cfg.data.augment = true;  // flip and jitter: the kernel does both
  const auto c = choose_preprocess(cfg, fused());
  EXPECT_TRUE(c.on_device);
  EXPECT_TRUE(says(c, "on the device")) << c.message;
}

TEST(PreprocessChoice, WithoutFusedKernelsTheCpuChainStays) {
  config::Config cfg;
  for (const auto& k : {choose_kernels(true, c10::Device(c10::kCPU)), choose_kernels(false, c10::Device(c10::kCUDA, 0))}) {
    const auto c = choose_preprocess(cfg, k);
    EXPECT_FALSE(c.on_device);
    EXPECT_TRUE(says(c, "on the CPU")) << c.message;
  }
}

TEST(PreprocessChoice, WhatTheKernelCannotDoKeepsTheCpuChainAndSaysWhich) {
  config::Config volume;
  volume.data.depth = 16;
  config::Config rotate;
  rotate.data.augment = true;
  rotate.data.rotate_degrees = 10;
  config::Config rgb;
  rgb.data.colour = "rgb";
  config::Config crop;
  crop.data.augment = true;
  crop.data.crop_scale = 0.8;
  for (const auto& [cfg, key] : {std::pair{volume, "data.depth"}, std::pair{rotate, "data.rotate_degrees"},
                                 std::pair{crop, "data.crop_scale"}, std::pair{rgb, "data.colour"}}) {
    const auto c = choose_preprocess(cfg, fused());
    EXPECT_FALSE(c.on_device) << key;
    EXPECT_TRUE(says(c, key) && says(c, "on the CPU")) << c.message;
  }
  // Rotation and crop keys without data.augment draw nothing: the device can do it.
  rotate.data.augment = crop.data.augment = false;
  EXPECT_TRUE(choose_preprocess(rotate, fused()).on_device);
  EXPECT_TRUE(choose_preprocess(crop, fused()).on_device);
}

TEST(PreprocessChoice, TextAndSpeechHaveNoImagesAndNoLine) {
  for (const char* dataset : {"text", "speech"}) {
    config::Config cfg;
    cfg.data.dataset = dataset;
    const auto c = choose_preprocess(cfg, fused());
    EXPECT_FALSE(c.on_device);
    EXPECT_TRUE(c.message.empty()) << c.message;
  }
}

}  // namespace
}  // namespace medtrain::engine
