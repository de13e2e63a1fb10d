// LayerNorm [8192, 1024] and bias + exact GELU [8192, 4096] (BERT's and
// Whisper's), forward + backward: kernels::layer_norm / kernels::bias_gelu
// against at::layer_norm / at::gelu(x + b) with autograd, fp32 and bf16. The
// fused kernels are validated first (y and every gradient) against the ATen
// ops in fp32 on the same inputs. Bytes: forward reads x and writes y;
// backward reads dy and x and writes dx (parameters ignored).
#include "kernels/bias_gelu.h"
#include "kernels/layer_norm.h"
#include "scripts/bench/kernel_bench_util.h"

namespace {

using namespace medtrain::bench;

torch::TensorOptions opts(benchmark::State& state) {
  return torch::TensorOptions().device(bench_device()).dtype(state.range(0) ? torch::kBFloat16 : torch::kFloat);
}

// y and the gradients of `inputs` for upstream gradient dy, as named outputs.
template <class F>
Named forward_backward(F& f, std::vector<torch::Tensor> inputs, const torch::Tensor& dy,
                       const std::vector<std::string>& names) {
  for (auto& t : inputs) t = t.detach().clone().requires_grad_(true);
  auto y = f(inputs);
  y.backward(dy);
  Named out{{"y", y.detach()}};
  for (size_t i = 0; i < inputs.size(); ++i) out.emplace_back("d" + names[i], inputs[i].grad());
  return out;
}

// Validates f (when `fused`) against `reference` in fp32, then times f.
template <class F, class R>
void run(benchmark::State& state, int64_t rows, int64_t d, const std::vector<std::string>& names, F f, R reference,
         bool fused, const char* what) {
  if (!require_cuda(state)) return;
  std::vector<torch::Tensor> inputs{torch::randn({rows, d}, opts(state))};
  for (size_t i = 1; i < names.size(); ++i) inputs.push_back(torch::randn({d}, opts(state)));
  auto dy = torch::randn({rows, d}, opts(state));
  if (fused) {
    std::vector<torch::Tensor> wide;
    for (const auto& t : inputs) wide.push_back(t.to(torch::kFloat));
    if (!validate(
            state, [&] { return forward_backward(f, inputs, dy, names); },
            [&] { return forward_backward(reference, wide, dy.to(torch::kFloat), names); },
            tolerance_for(dy.scalar_type()))) {
      return;
    }
  }
  for (auto& t : inputs) t.requires_grad_(true);
  time_loop(
      state,
      [&] {
        for (auto& t : inputs) t.mutable_grad() = torch::Tensor();  // no accumulation pass
        f(inputs).backward(dy);
      },
      what, 5.0 * rows * d * dy.element_size());
}

using Inputs = std::vector<torch::Tensor>;
const std::vector<std::string> kLnNames{"x", "gamma", "beta"}, kGeluNames{"x", "bias"};

auto aten_ln = [](const Inputs& t) { return at::layer_norm(t[0], {t[0].size(-1)}, t[1], t[2], 1e-5); };
auto fused_ln = [](const Inputs& t) { return medtrain::kernels::layer_norm(t[0], t[1], t[2], 1e-5); };
auto aten_gelu = [](const Inputs& t) { return at::gelu(t[0] + t[1], "none"); };
auto fused_gelu = [](const Inputs& t) { return medtrain::kernels::bias_gelu(t[0], t[1], false); };

void BM_LayerNorm_Aten(benchmark::State& s) { run(s, 8192, 1024, kLnNames, aten_ln, aten_ln, false, "at::layer_norm"); }
void BM_LayerNorm_Fused(benchmark::State& s) {
  run(s, 8192, 1024, kLnNames, fused_ln, aten_ln, true, "kernels::layer_norm");
}
void BM_BiasGelu_Aten(benchmark::State& s) {
  run(s, 8192, 4096, kGeluNames, aten_gelu, aten_gelu, false, "at::gelu(x + b)");
}
void BM_BiasGelu_Fused(benchmark::State& s) {
  run(s, 8192, 4096, kGeluNames, fused_gelu, aten_gelu, true, "kernels::bias_gelu");
}

// Arg: 0 = fp32, 1 = bf16.
BENCHMARK(BM_LayerNorm_Aten)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LayerNorm_Fused)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BiasGelu_Aten)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BiasGelu_Fused)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
