#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "trainer/engine/grad_scaler.h"

using medtrain::engine::GradScaler;

namespace {
struct Tiny : torch::nn::Module {
  Tiny() { w = register_parameter("w", torch::ones({3})); }
  torch::Tensor w;
};
}  // namespace

TEST(GradScaler, UnscalesFiniteGradients) {
  Tiny m;
  GradScaler scaler(true, 8.0, 2);
  scaler.scale((m.w * torch::tensor({1.f, 2.f, 3.f})).sum()).backward();
  EXPECT_TRUE(torch::equal(m.w.grad(), torch::tensor({8.f, 16.f, 24.f})));
  EXPECT_TRUE(scaler.unscale_and_check(m));
  EXPECT_TRUE(torch::equal(m.w.grad(), torch::tensor({1.f, 2.f, 3.f})));
}

TEST(GradScaler, NonFiniteSkipsAndHalvesThenGrowsAfterCleanSteps) {
  Tiny m;
  GradScaler scaler(true, 8.0, 2);
  m.w.mutable_grad() = torch::tensor({1.f, std::numeric_limits<float>::infinity(), 0.f});
  EXPECT_FALSE(scaler.unscale_and_check(m));
  scaler.update(false);
  EXPECT_EQ(scaler.current_scale(), 4.0);
  scaler.update(true);
  EXPECT_EQ(scaler.current_scale(), 4.0);
  scaler.update(true);
  EXPECT_EQ(scaler.current_scale(), 8.0);
}

TEST(GradScaler, DisabledIsTheIdentity) {
  Tiny m;
  GradScaler scaler(false);
  auto loss = m.w.sum();
  EXPECT_TRUE(torch::equal(scaler.scale(loss), loss));
  m.w.mutable_grad() = torch::tensor({std::numeric_limits<float>::quiet_NaN(), 0.f, 0.f});
  EXPECT_TRUE(scaler.unscale_and_check(m));  // fp32/bf16 runs never skip steps
  EXPECT_EQ(scaler.current_scale(), 1.0);
}
