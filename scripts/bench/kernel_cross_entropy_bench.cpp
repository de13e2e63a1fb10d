// Softmax cross-entropy forward + backward at a 30k vocabulary (8192 rows):
// kernels::softmax_cross_entropy (gradient computed in forward) against
// at::cross_entropy_loss + autograd, label smoothing 0.1. The fused kernel is
// validated first (loss and logit gradient) against at::cross_entropy_loss in
// fp32 on the same logits. Counters: GB/s and of_copy (logits read twice,
// gradient written once) and peak_bytes: the caching allocator's peak above
// what was allocated before the step.
#include <functional>

#include "kernels/softmax_cross_entropy.h"
#include "scripts/bench/kernel_bench_util.h"

#ifdef MEDTRAIN_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace {

using namespace medtrain::bench;

constexpr int64_t kRows = 8192, kVocab = 30000;

double peak_bytes_of(const std::function<void()>& f) {
#ifdef MEDTRAIN_WITH_CUDA
  if (on_cuda()) {
    namespace alloc = c10::cuda::CUDACachingAllocator;
    sync();
    const int dev = 0;
    const auto before = alloc::getDeviceStats(dev).allocated_bytes[0].current;
    alloc::resetPeakStats(dev);
    f();
    sync();
    return static_cast<double>(alloc::getDeviceStats(dev).allocated_bytes[0].peak - before);
  }
#endif
  f();
  return 0;
}

auto aten_loss = [](const torch::Tensor& x, const torch::Tensor& t) {
  return at::cross_entropy_loss(x, t, {}, at::Reduction::Mean, -100, 0.1);
};
auto fused_loss = [](const torch::Tensor& x, const torch::Tensor& t) {
  return medtrain::kernels::softmax_cross_entropy(x, t, {-100, 0.1});
};

template <class Loss>
Named loss_and_grad(Loss& loss_fn, const torch::Tensor& logits, const torch::Tensor& target) {
  auto x = logits.detach().clone().requires_grad_(true);
  auto loss = loss_fn(x, target);
  loss.backward();
  return {{"loss", loss.detach()}, {"dlogits", x.grad()}};
}

template <class Loss>
void run(benchmark::State& state, Loss loss_fn, bool fused, const char* what) {
  if (!require_cuda(state)) return;
  const auto dtype = state.range(0) ? torch::kBFloat16 : torch::kFloat;
  auto logits = (torch::randn({kRows, kVocab}, torch::TensorOptions().device(bench_device())) * 3).to(dtype);
  auto target = torch::randint(0, kVocab, {kRows}, torch::TensorOptions().dtype(torch::kLong).device(bench_device()));
  if (fused && !validate(
                   state, [&] { return loss_and_grad(loss_fn, logits, target); },
                   [&] { return loss_and_grad(aten_loss, logits.to(torch::kFloat), target); }, tolerance_for(dtype))) {
    return;
  }
  logits.requires_grad_(true);
  auto step = [&] {
    logits.mutable_grad() = torch::Tensor();
    loss_fn(logits, target).backward();
  };
  state.counters["peak_bytes"] = peak_bytes_of(step);
  time_loop(state, step, what, 3.0 * kRows * kVocab * logits.element_size());
}

void BM_CrossEntropy_Aten(benchmark::State& s) { run(s, aten_loss, false, "at::cross_entropy_loss + backward"); }
void BM_CrossEntropy_Fused(benchmark::State& s) {
  run(s, fused_loss, true, "kernels::softmax_cross_entropy + backward");
}

// Arg: 0 = fp32 logits, 1 = bf16 logits.
BENCHMARK(BM_CrossEntropy_Aten)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CrossEntropy_Fused)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
