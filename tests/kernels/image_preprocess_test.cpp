// Fused DICOM preprocessing: the CPU reference against the unfused ATen chain
// (every option: signedness, crop, flip, jitter, channels, dtype, layout), the
// output fully written, argument errors; on a GPU the kernel against the
// reference with a poisoned output.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <string>

#include "kernels/image_preprocess.h"
#include "tests/kernels/kernel_test_util.h"

namespace medtrain::kernels {
namespace {

using testing::all_close;
using testing::expect_error;
using testing::fresh_seed;

struct Case {
  bool is_signed, augment, channels_last, bf16, three_d;
  int64_t channels;
};

// Fresh random raw pixels ([N,1,H,W] or [N,H,W]) and per-sample parameters.
std::pair<torch::Tensor, PreprocessParams> make_case(const Case& c, int64_t n = 3, int64_t h = 37,
                                                     int64_t w = 29) {
  torch::Tensor raw = c.is_signed ? torch::randint(-1024, 3072, {n, 1, h, w}).to(torch::kShort)
                                  : torch::randint(0, 4096, {n, 1, h, w}).to(torch::kUInt16);
  if (c.three_d) raw = raw.reshape({n, h, w});
  PreprocessParams p;
  p.slope = torch::rand({n}) + 0.5;
  p.intercept = torch::randn({n}) * 100 - (c.is_signed ? 0 : 1024);
  p.window_center = torch::randn({n}) * 200 + 40;
  p.window_width = torch::rand({n}) * 1500 + 50;
  p.mean = 0.45;
  p.std = 0.226;
  p.out_channels = c.channels;
  p.channels_last = c.channels_last;
  p.out_dtype = c.bf16 ? torch::kBFloat16 : torch::kFloat;
  if (c.augment) {
    p.out_h = h - 6;
    p.out_w = w - 5;
    p.crop_y = torch::randint(0, 7, {n}, torch::kInt);
    p.crop_x = torch::randint(0, 6, {n}, torch::kLong);
    p.flip = torch::randint(0, 2, {n}).to(torch::kBool);
    p.gain = torch::rand({n}) * 0.4 + 0.8;
    p.bias = torch::randn({n}) * 0.05;
  }
  return {raw, p};
}

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (bool s : {false, true})
    for (bool aug : {false, true})
      for (bool cl : {false, true})
        for (bool bf16 : {false, true})
          for (int64_t ch : {1, 3}) out.push_back({s, aug, cl, bf16, /*three_d=*/s && !aug, ch});
  return out;
}

std::string describe(const Case& c) {
  return std::string(c.is_signed ? "int16" : "uint16") + (c.augment ? " augment" : "") +
         (c.channels_last ? " channels_last" : "") + (c.bf16 ? " bf16" : " fp32") + " C=" +
         std::to_string(c.channels) + (c.three_d ? " [N,H,W]" : "");
}

TEST(ImagePreprocess, ReferenceMatchesUnfusedChain) {
  fresh_seed();
  for (const Case& c : all_cases()) {
    SCOPED_TRACE(describe(c));
    auto [raw, p] = make_case(c);
    auto want = preprocess_images_unfused(raw, p);
    auto out = torch::full(want.sizes(), std::nan(""), torch::TensorOptions().dtype(p.out_dtype))
                   .contiguous(c.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous);
    preprocess_images_out(raw, p, out);
    // fp32: fma vs separate rounding only; bf16: one bf16 step where the fp32 values straddle a rounding boundary
    if (c.bf16) {
      EXPECT_TRUE(all_close(out, want, 1e-2, 1e-2));
    } else {
      EXPECT_TRUE(all_close(out, want, 1e-5, 1e-5));
    }
    EXPECT_TRUE(torch::equal(preprocess_images(raw, p), out));
  }
}

// Independent spot check of the formula on one pixel, written out by hand.
TEST(ImagePreprocess, OnePixelByHand) {
  PreprocessParams p;
  p.slope = torch::tensor({2.f});
  p.intercept = torch::tensor({-1000.f});
  p.window_center = torch::tensor({40.f});
  p.window_width = torch::tensor({400.f});
  p.mean = 0.5;
  p.std = 0.25;
  p.flip = torch::tensor({true});
  auto raw = torch::tensor({500, 600}, torch::kInt).to(torch::kUInt16).reshape({1, 1, 1, 2});
  auto out = preprocess_images(raw, p);
  // pixel 0 after the flip reads 600: hu = 200, (200 - (-160)) / 400 = 0.9, (0.9 - 0.5) / 0.25 = 1.6
  EXPECT_NEAR(out[0][0][0][0].item<float>(), 1.6f, 1e-6);
  // pixel 1 reads 500: hu = 0, 160 / 400 = 0.4, -0.4
  EXPECT_NEAR(out[0][0][0][1].item<float>(), -0.4f, 1e-6);
}

TEST(ImagePreprocess, RefusesBadArguments) {
  auto [raw, p] = make_case({false, true, false, false, false, 1});
  expect_error([&] { preprocess_images(raw.to(torch::kFloat), p); }, "raw must be uint16 or int16");
  expect_error([&] { preprocess_images(raw.transpose(2, 3), p); }, "raw is not contiguous");
  expect_error([&] { preprocess_images(raw.expand({3, 2, 37, 29}).contiguous(), p); }, "raw must be [N,1,H,W]");
  auto q = p;
  q.crop_y = torch::tensor({0, 7, 1}, torch::kInt);  // 7 > 37 - 31
  expect_error([&] { preprocess_images(raw, q); }, "crop offsets must satisfy 0 <= crop_y <= 6");
  q = p;
  q.window_width = torch::tensor({100.f, 0.f, 5.f});
  expect_error([&] { preprocess_images(raw, q); }, "window_width must be > 0");
  q = p;
  q.slope = torch::ones({2});
  expect_error([&] { preprocess_images(raw, q); }, "params.slope must have shape [3]");
  q = p;
  q.gain = torch::Tensor();
  expect_error([&] { preprocess_images(raw, q); }, "gain and params.bias go together");
  q = p;
  q.out_h = 40;
  expect_error([&] { preprocess_images(raw, q); }, "must be positive and fit in the image 37x29");
  q = p;
  q.out_channels = 2;
  expect_error([&] { preprocess_images(raw, q); }, "out_channels must be 1 or 3");
  expect_error([&] { preprocess_images_out(raw, p, torch::empty({3, 1, 37, 29})); }, "out must be Float [3,1,31,24]");
}

TEST(ImagePreprocessCuda, KernelMatchesReferenceWithPoisonedOutput) {
  MEDTRAIN_SKIP_WITHOUT_CUDA();
  fresh_seed();
  for (const Case& c : all_cases()) {
    SCOPED_TRACE(describe(c));
    auto [raw, p] = make_case(c, 5, 203, 157);
    auto want = preprocess_images(raw, p);
    auto out = torch::full(want.sizes(), std::nan(""), torch::TensorOptions().dtype(p.out_dtype).device(torch::kCUDA))
                   .contiguous(c.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous);
    preprocess_images_out(raw.to(torch::kCUDA), p, out);
    EXPECT_FALSE(out.isnan().any().item<bool>()) << "unwritten output elements";
    if (c.bf16) {
      EXPECT_TRUE(all_close(out, want, 1e-2, 1e-2));
    } else {
      EXPECT_TRUE(all_close(out, want, 1e-5, 1e-6));
    }
    EXPECT_TRUE(all_close(preprocess_images_unfused(raw.to(torch::kCUDA), p), want, 1e-2, 1e-2));
  }
}

}  // namespace
}  // namespace medtrain::kernels
