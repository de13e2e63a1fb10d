// Optimizer steps over ResNet-50's parameters (161 tensors, 25.6 M fp32):
// torch::optim::AdamW / SGD (one ATen op chain per tensor) against
// kernels::FusedAdamW / FusedSGD (multi-tensor launches), and the AMP
// unscale + inf check against at::_amp_foreach_non_finite_check_and_unscale_.
// PyTorch's own fused=True AdamW on the same shapes: kernel_adamw_pytorch.py.
#include <memory>

#include "kernels/fused_adamw.h"
#include "kernels/fused_sgd.h"
#include "kernels/multi_tensor_optim.h"
#include "scripts/bench/kernel_bench_util.h"

namespace {

using namespace medtrain::bench;

std::vector<torch::Tensor> make_params() {
  std::vector<torch::Tensor> ps;
  for (int64_t n : resnet50_param_numels()) {
    auto p = torch::randn({n}, torch::TensorOptions().device(bench_device())).requires_grad_(true);
    p.mutable_grad() = torch::randn_like(p) * 1e-2;
    ps.push_back(p);
  }
  return ps;
}

double total_numel() {
  double n = 0;
  for (int64_t v : resnet50_param_numels()) n += static_cast<double>(v);
  return n;
}

template <class Opt, class Options>
void run_optimizer(benchmark::State& state, Options options, const char* what, double bytes_per_elem) {
  auto params = make_params();
  Opt opt(params, options);
  time_loop(state, [&] { opt.step(); }, what);
  set_bytes(state, bytes_per_elem * total_numel());
}

// AdamW moves p, g, m, v in and p, m, v out: 7 fp32 values per element.
void BM_AdamW_TorchOptim(benchmark::State& s) {
  run_optimizer<torch::optim::AdamW>(s, torch::optim::AdamWOptions(1e-3).weight_decay(0.05),
                                     "torch::optim::AdamW", 28);
}
void BM_AdamW_Fused(benchmark::State& s) {
  run_optimizer<medtrain::kernels::FusedAdamW>(s, torch::optim::AdamWOptions(1e-3).weight_decay(0.05),
                                               "kernels::FusedAdamW", 28);
}
// SGD with momentum moves p, g, buf in and p, buf out: 5 fp32 values per element.
void BM_SGD_TorchOptim(benchmark::State& s) {
  run_optimizer<torch::optim::SGD>(s, torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4),
                                   "torch::optim::SGD momentum", 20);
}
void BM_SGD_Fused(benchmark::State& s) {
  run_optimizer<medtrain::kernels::FusedSGD>(s, torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4),
                                             "kernels::FusedSGD momentum", 20);
}

// Unscale + check moves g in and out: 2 fp32 values per element.
void BM_UnscaleCheck_Aten(benchmark::State& state) {
  auto params = make_params();
  std::vector<torch::Tensor> grads;
  for (auto& p : params) grads.push_back(p.grad());
  auto found = torch::zeros({1}, torch::TensorOptions().device(bench_device()));
  auto inv = torch::ones({1}, torch::TensorOptions().device(bench_device()));
  time_loop(state, [&] { at::_amp_foreach_non_finite_check_and_unscale_(grads, found, inv); },
            "at::_amp_foreach_non_finite_check_and_unscale_");
  set_bytes(state, 8 * total_numel());
}
void BM_UnscaleCheck_Fused(benchmark::State& state) {
  auto params = make_params();
  std::vector<torch::Tensor> grads;
  for (auto& p : params) grads.push_back(p.grad());
  auto found = torch::zeros({1}, torch::TensorOptions().device(bench_device()));
  auto inv = torch::ones({1}, torch::TensorOptions().device(bench_device()));
  time_loop(state, [&] { medtrain::kernels::multi_tensor_unscale_check_(grads, inv, found); },
            "kernels::multi_tensor_unscale_check_");
  set_bytes(state, 8 * total_numel());
}

BENCHMARK(BM_AdamW_TorchOptim)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AdamW_Fused)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SGD_TorchOptim)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SGD_Fused)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UnscaleCheck_Aten)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UnscaleCheck_Fused)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
