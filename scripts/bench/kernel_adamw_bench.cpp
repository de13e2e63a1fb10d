// Optimizer steps over ResNet-50's parameters (161 tensors, 25.6 M fp32):
// torch::optim::AdamW / SGD (one ATen op chain per tensor) against
// kernels::FusedAdamW / FusedSGD (multi-tensor launches), and the AMP
// unscale + inf check against at::_amp_foreach_non_finite_check_and_unscale_.
// The fused ops are validated first against their ATen counterparts on copies
// of the same tensors: the parameter change after two steps; the unscaled
// gradients and the inf flag, once finite and once with an inf.
// PyTorch's own fused=True AdamW on the same shapes: kernel_adamw_pytorch.py.
#include <limits>
#include <memory>
#include <type_traits>

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

std::vector<torch::Tensor> copy_params(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) {
    auto c = p.detach().clone().requires_grad_(true);
    c.mutable_grad() = p.grad().clone();
    out.push_back(c);
  }
  return out;
}

// All parameters' change after two steps of Opt, flattened into one tensor.
template <class Opt, class Options>
torch::Tensor update_of(const std::vector<torch::Tensor>& params, const Options& options) {
  auto ps = copy_params(params);
  Opt opt(ps, options);
  opt.step();
  opt.step();
  std::vector<torch::Tensor> deltas;
  for (size_t i = 0; i < ps.size(); ++i) deltas.push_back((ps[i].detach() - params[i].detach()).flatten());
  return torch::cat(deltas);
}

// An update of ~1e-3 is p_after - p_before in fp32: one ulp of |p| ~ 4 is
// 5e-7, which a different but correct order of operations may flip.
constexpr Tolerance kUpdateTolerance{1e-3, 1e-3};

// Validates Opt against Reference (when they differ), then times Opt's step.
template <class Opt, class Reference, class Options>
void run_optimizer(benchmark::State& state, Options options, const char* what, double bytes_per_elem) {
  if (!require_cuda(state)) return;
  auto params = make_params();
  if (!std::is_same_v<Opt, Reference> &&
      !validate(
          state, [&]() -> Named { return {{"update", update_of<Opt>(params, options)}}; },
          [&]() -> Named { return {{"update", update_of<Reference>(params, options)}}; }, kUpdateTolerance)) {
    return;
  }
  Opt opt(params, options);
  time_loop(state, [&] { opt.step(); }, what, bytes_per_elem * total_numel());
}

// AdamW moves p, g, m, v in and p, m, v out: 7 fp32 values per element.
void BM_AdamW_TorchOptim(benchmark::State& s) {
  run_optimizer<torch::optim::AdamW, torch::optim::AdamW>(s, torch::optim::AdamWOptions(1e-3).weight_decay(0.05),
                                     "torch::optim::AdamW", 28);
}
void BM_AdamW_Fused(benchmark::State& s) {
  run_optimizer<medtrain::kernels::FusedAdamW, torch::optim::AdamW>(s, torch::optim::AdamWOptions(1e-3).weight_decay(0.05),
                                               "kernels::FusedAdamW", 28);
}
// SGD with momentum moves p, g, buf in and p, buf out: 5 fp32 values per element.
void BM_SGD_TorchOptim(benchmark::State& s) {
  run_optimizer<torch::optim::SGD, torch::optim::SGD>(s, torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4),
                                   "torch::optim::SGD momentum", 20);
}
void BM_SGD_Fused(benchmark::State& s) {
  run_optimizer<medtrain::kernels::FusedSGD, torch::optim::SGD>(s, torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4),
                                             "kernels::FusedSGD momentum", 20);
}

// Unscale + check moves g in and out: 2 fp32 values per element.
using Unscale = void (*)(std::vector<torch::Tensor>&, torch::Tensor& found, const torch::Tensor& inv);

void aten_unscale(std::vector<torch::Tensor>& grads, torch::Tensor& found, const torch::Tensor& inv) {
  at::_amp_foreach_non_finite_check_and_unscale_(grads, found, inv);
}
void fused_unscale(std::vector<torch::Tensor>& grads, torch::Tensor& found, const torch::Tensor& inv) {
  medtrain::kernels::multi_tensor_unscale_check_(grads, inv, found);
}

// f on copies of `grads` with inv_scale 0.5: {all grads flattened, found_inf}.
Named unscaled(Unscale f, const std::vector<torch::Tensor>& grads) {
  std::vector<torch::Tensor> gs;
  for (const auto& g : grads) gs.push_back(g.clone());
  auto found = torch::zeros({1}, grads[0].options()), inv = torch::full({1}, 0.5, grads[0].options());
  f(gs, found, inv);
  for (auto& g : gs) g = g.flatten();
  return {{"grads", torch::cat(gs)}, {"found_inf", found}};
}

void run_unscale(benchmark::State& state, Unscale f, bool fused, const char* what) {
  if (!require_cuda(state)) return;
  auto params = make_params();
  std::vector<torch::Tensor> grads;
  for (auto& p : params) grads.push_back(p.grad());
  if (fused) {
    auto with_inf = grads;
    with_inf[7] = with_inf[7].clone();
    with_inf[7][3] = std::numeric_limits<float>::infinity();
    for (const auto* gs : {&grads, &with_inf}) {
      if (!validate(state, [&] { return unscaled(f, *gs); }, [&] { return unscaled(aten_unscale, *gs); }, {0, 0})) {
        return;
      }
    }
  }
  auto found = torch::zeros({1}, torch::TensorOptions().device(bench_device()));
  auto inv = torch::ones({1}, torch::TensorOptions().device(bench_device()));
  time_loop(state, [&] { f(grads, found, inv); }, what, 8 * total_numel());
}

void BM_UnscaleCheck_Aten(benchmark::State& state) {
  run_unscale(state, aten_unscale, false, "at::_amp_foreach_non_finite_check_and_unscale_");
}
void BM_UnscaleCheck_Fused(benchmark::State& state) {
  run_unscale(state, fused_unscale, true, "kernels::multi_tensor_unscale_check_");
}

BENCHMARK(BM_AdamW_TorchOptim)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AdamW_Fused)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SGD_TorchOptim)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SGD_Fused)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UnscaleCheck_Aten)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UnscaleCheck_Fused)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
