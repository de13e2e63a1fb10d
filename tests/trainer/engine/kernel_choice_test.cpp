#include "trainer/engine/kernel_choice.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace medtrain::engine
