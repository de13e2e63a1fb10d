// LayerNorm [8192, 1024] and bias + GELU [8192, 4096], forward + backward:
// kernels::layer_norm / kernels::bias_gelu against at::layer_norm /
// at::gelu(x + b) with autograd, fp32 and bf16. Bytes: forward reads x and
// writes y; backward reads dy and x and writes dx (parameters ignored).
#include "kernels/bias_gelu.h"
#include "kernels/layer_norm.h"
#include "scripts/bench/kernel_bench_util.h"

namespace {

using namespace medtrain::bench;

torch::TensorOptions opts(benchmark::State& state) {
  return torch::TensorOptions().device(bench_device()).dtype(state.range(0) ? torch::kBFloat16 : torch::kFloat);
}

template <class F>
void run_ln(benchmark::State& state, F f, const char* what) {
  const int64_t rows = 8192, d = 1024;
  auto x = torch::randn({rows, d}, opts(state)).requires_grad_(true);
  auto g = torch::randn({d}, opts(state)).requires_grad_(true), b = torch::randn({d}, opts(state)).requires_grad_(true);
  auto dy = torch::randn({rows, d}, opts(state));
  time_loop(
      state,
      [&] {
        for (auto* t : {&x, &g, &b}) t->mutable_grad() = torch::Tensor();  // no accumulation pass
        f(x, g, b).backward(dy);
      },
      what);
  set_bytes(state, 5.0 * rows * d * x.element_size());
}

template <class F>
void run_gelu(benchmark::State& state, F f, const char* what) {
  const int64_t rows = 8192, d = 4096;
  auto x = torch::randn({rows, d}, opts(state)).requires_grad_(true);
  auto b = torch::randn({d}, opts(state)).requires_grad_(true);
  auto dy = torch::randn({rows, d}, opts(state));
  time_loop(
      state,
      [&] {
        for (auto* t : {&x, &b}) t->mutable_grad() = torch::Tensor();  // no accumulation pass
        f(x, b).backward(dy);
      },
      what);
  set_bytes(state, 5.0 * rows * d * x.element_size());
}

void BM_LayerNorm_Aten(benchmark::State& s) {
  run_ln(s, [](auto& x, auto& g, auto& b) { return at::layer_norm(x, {x.size(-1)}, g, b, 1e-5); }, "at::layer_norm");
}
void BM_LayerNorm_Fused(benchmark::State& s) {
  run_ln(s, [](auto& x, auto& g, auto& b) { return medtrain::kernels::layer_norm(x, g, b, 1e-5); }, "kernels::layer_norm");
}
void BM_BiasGelu_Aten(benchmark::State& s) {
  run_gelu(s, [](auto& x, auto& b) { return at::gelu(x + b, "tanh"); }, "at::gelu(x + b)");
}
void BM_BiasGelu_Fused(benchmark::State& s) {
  run_gelu(s, [](auto& x, auto& b) { return medtrain::kernels::bias_gelu(x, b, true); }, "kernels::bias_gelu");
}

// Arg: 0 = fp32, 1 = bf16.
BENCHMARK(BM_LayerNorm_Aten)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LayerNorm_Fused)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BiasGelu_Aten)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BiasGelu_Fused)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
