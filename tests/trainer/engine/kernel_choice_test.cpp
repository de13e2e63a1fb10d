#include "trainer/engine/kernel_choice.h"

#include <gtest/gtest.h>

#include <optional>

#include "models/image_model.h"

namespace medtrain::engine {
namespace {

TEST(KernelChoice, CudaWithFusedTakesEveryKernel) {
  const auto k = choose_kernels(true, c10::Device(c10::kCUDA, 0));
  EXPECT_TRUE(k.optimizer && k.amp_unscale && k.cross_entropy && k.preprocess && k.bucket_epilogue && k.transformer);
  EXPECT_NE(k.message.find("fused"), std::string::npos) << k.message;
}

TEST(KernelChoice, CpuWithFusedFallsBackAndSaysWhy) {
  const auto k = choose_kernels(true, c10::Device(c10::kCPU));
  EXPECT_FALSE(k.any());
  EXPECT_NE(k.message.find("CUDA only"), std::string::npos) << k.message;
  EXPECT_NE(k.message.find("cpu"), std::string::npos) << k.message;
}

TEST(KernelChoice, FusedFalseTakesNoneOnAnyDevice) {
  EXPECT_FALSE(choose_kernels(false, c10::Device(c10::kCUDA, 0)).any());
  EXPECT_FALSE(choose_kernels(false, c10::Device(c10::kCPU)).any());
  EXPECT_NE(choose_kernels(false, c10::Device(c10::kCPU)).message.find("kernels.fused=false"), std::string::npos);
}

// Records what the trainer told it (BertTaskModel and WhisperTaskModel pass it
// to their blocks: tests/models/{nlu,asr}/fused_*_test.cpp).
class RecordingModel : public models::ImageModel {
 public:
  torch::Tensor forward(torch::Tensor x) override { return x; }
  void use_fused_kernels(bool on) override { told = on; }
  std::optional<bool> told;
};

TEST(KernelChoice, TheModelRunsFusedTransformerKernelsOnlyWhenChosen) {
  for (const bool fused : {true, false}) {
    for (const auto& device : {c10::Device(c10::kCUDA, 0), c10::Device(c10::kCPU)}) {
      RecordingModel model;
      const auto k = choose_kernels(fused, device);
      apply_kernel_choice(k, model);
      ASSERT_TRUE(model.told.has_value()) << "the model must be told either way";
      EXPECT_EQ(*model.told, fused && device.is_cuda()) << "kernels.fused " << fused << " on " << device;
    }
  }
}

}  // namespace
}  // namespace medtrain::engine
