// DICOM batch preprocessing: kernels::preprocess_images (one pass) against the
// unfused ATen chain on the same inputs (kernels::preprocess_images_unfused),
// which the fused kernel is validated against first. Bytes: the raw pixels
// read (the crop only) + the output written.
#include "kernels/image_preprocess.h"
#include "scripts/bench/kernel_bench_util.h"

namespace {

using namespace medtrain::bench;
using medtrain::kernels::PreprocessParams;

struct Setup {
  torch::Tensor raw;
  PreprocessParams p;
  double bytes;
};

// range(0): 0 = fp32 NCHW 1 channel, full image; 1 = bf16 channels_last 3
// channels with crop 448, flip and jitter (the training-time input of a CNN).
Setup make(int64_t variant) {
  const int64_t n = 64, h = 512, w = 512;
  Setup s;
  s.raw = torch::randint(0, 4096, {n, 1, h, w}).to(torch::kUInt16).to(bench_device());
  s.p.slope = torch::ones({n});
  s.p.intercept = torch::full({n}, -1024.f);
  s.p.window_center = torch::full({n}, 40.f);
  s.p.window_width = torch::full({n}, 400.f);
  s.p.mean = 0.45;
  s.p.std = 0.226;
  if (variant == 1) {
    s.p.out_h = s.p.out_w = 448;
    s.p.crop_y = torch::randint(0, h - 448 + 1, {n}, torch::kInt);
    s.p.crop_x = torch::randint(0, w - 448 + 1, {n}, torch::kInt);
    s.p.flip = torch::randint(0, 2, {n}).to(torch::kBool);
    s.p.gain = torch::rand({n}) * 0.2 + 0.9;
    s.p.bias = torch::randn({n}) * 0.02;
    s.p.out_channels = 3;
    s.p.out_dtype = torch::kBFloat16;
    s.p.channels_last = true;
  }
  const double oh = variant == 1 ? 448 : h, ow = variant == 1 ? 448 : w;
  s.bytes = n * oh * ow * (2.0 + s.p.out_channels * (variant == 1 ? 2.0 : 4.0));
  return s;
}

void BM_Preprocess_Unfused(benchmark::State& state) {
  if (!require_cuda(state)) return;
  Setup s = make(state.range(0));
  torch::Tensor out;
  time_loop(state, [&] { out = medtrain::kernels::preprocess_images_unfused(s.raw, s.p); }, "ATen chain", s.bytes);
}

void BM_Preprocess_Fused(benchmark::State& state) {
  if (!require_cuda(state)) return;
  Setup s = make(state.range(0));
  torch::Tensor out;
  auto fused = [&]() -> Named {
    out = medtrain::kernels::preprocess_images(s.raw, s.p);
    return {{"images", out}};
  };
  auto unfused = [&]() -> Named {
    return {{"images", medtrain::kernels::preprocess_images_unfused(s.raw, s.p).to(torch::kFloat)}};
  };
  if (!validate(state, fused, unfused, tolerance_for(s.p.out_dtype))) return;
  time_loop(state, [&] { medtrain::kernels::preprocess_images_out(s.raw, s.p, out); }, "kernels::preprocess_images",
            s.bytes);
}

BENCHMARK(BM_Preprocess_Unfused)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Preprocess_Fused)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
