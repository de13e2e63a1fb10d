// One CPU convolution call, like for like: medtrain's own oneDNN primitive
// (FusedConv2d, built once per input shape: Note [Own oneDNN primitives])
// vs ATen's prepacked oneDNN call (`mkldnn::_convolution_pointwise`, what
// FusedConv2d ran before, which describes the convolution anew each call),
// same weights, same channels_last input, ReLU fused in both. Shapes: a tiny
// one (the per-call cost alone), DenseNet-121's 3x3 at 14x14 (direct), and
// ResNet-50's first 3x3 at 56x56 (Winograd on AVX-512).
//   OMP_NUM_THREADS=2 build/bench/conv_primitive_bench
// Compare Own/<shape> with Aten/<shape> from the same run.
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <c10/core/InferenceMode.h>

#include <string>
#include <vector>

#include "models/cv/fused_conv.h"
#include "models/cv/onednn_ops.h"

namespace {

using medtrain::models::ConvGeometry;
using medtrain::models::Epilogue;
using medtrain::models::FusedConv2d;

struct Shape {
  int64_t in, out, kernel, size;
};
const std::vector<Shape> kShapes{{8, 8, 1, 4}, {128, 32, 3, 14}, {64, 64, 3, 56}};

ConvGeometry geometry(const Shape& s) {
  const int64_t pad = s.kernel / 2;
  return {{1, 1}, {pad, pad}, {1, 1}, 1};
}

at::Tensor input(const Shape& s) {
  return at::randn({1, s.in, s.size, s.size}).contiguous(at::MemoryFormat::ChannelsLast);
}

void Own(benchmark::State& state) {
  const Shape s = kShapes.at(state.range(0));
  c10::InferenceMode guard;
  const FusedConv2d conv({at::randn({s.out, s.in, s.kernel, s.kernel}) * 0.1, at::randn({s.out})}, geometry(s),
                         at::kCPU);
  if (!conv.uses_own_primitives()) {
    state.SkipWithError("built without libdnnl, or MEDTRAIN_OWN_ONEDNN=0");
    return;
  }
  const at::Tensor x = input(s);
  for (auto _ : state) benchmark::DoNotOptimize(conv(x, Epilogue::kRelu));
}

void Aten(benchmark::State& state) {
  const Shape s = kShapes.at(state.range(0));
  c10::InferenceMode guard;
  const auto& ops = medtrain::models::onednn_ops();
  if (!ops.conv || !ops.conv_reorder) {
    state.SkipWithError("this LibTorch has no oneDNN convolution ops");
    return;
  }
  const ConvGeometry g = geometry(s);
  const at::Tensor x = input(s), b = at::randn({s.out});
  const at::Tensor w = medtrain::models::call_boxed(
      *ops.conv_reorder, {at::randn({s.out, s.in, s.kernel, s.kernel}) * 0.1, c10::IValue(g.padding),
                          c10::IValue(g.stride), c10::IValue(g.dilation), g.groups, c10::IValue(x.sizes().vec())});
  for (auto _ : state) {
    benchmark::DoNotOptimize(medtrain::models::call_boxed(
        *ops.conv, {x, w, b, c10::IValue(g.padding), c10::IValue(g.stride), c10::IValue(g.dilation), g.groups,
                    std::string("relu"), c10::List<std::optional<at::Scalar>>(), c10::IValue()}));
  }
}

void shapes(benchmark::internal::Benchmark* b) {
  for (int i = 0; i < static_cast<int>(kShapes.size()); ++i) b->Arg(i);
  b->ArgName("shape")->Unit(benchmark::kMicrosecond)->Repetitions(5)->ReportAggregatesOnly(true);
}

BENCHMARK(Own)->Apply(shapes);
BENCHMARK(Aten)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();
