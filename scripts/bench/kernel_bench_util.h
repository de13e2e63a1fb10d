#pragma once
// Shared by scripts/bench/kernel_*_bench.cpp. Benchmarks call the production
// ops of medtrain::kernels, so what is timed is what ships. The method (after
// llm.c's dev/cuda harness; docs/kernels.md, "Benchmark method"):
//   1. require_cuda: without a CUDA device a benchmark is skipped with a
//      message (timing the CPU reference loops would say nothing).
//   2. validate: before any timing, each fused kernel's outputs (forward and
//      gradients) are compared with its reference, the unfused ATen ops in
//      fp32 on the same inputs; a mismatch fails the benchmark with the name
//      of the output, the worst element and both values.
//   3. time_loop: one untimed warm-up, then per repetition L2 is scrubbed
//      (a buffer twice the device's L2 is overwritten) outside the timed
//      region, and CUDA events on the current stream time the call: every
//      repetition starts with cold caches, as a training step's kernels do.
//   4. Counters: GB/s (the fewest bytes the op must move / mean time) and
//      of_copy, that as a fraction of this device's copy bandwidth, measured
//      once per process by the same method (cudaMemcpyAsync device to device,
//      read + written; kernel_copy_bench.cpp reports it on its own).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "kernels/device.h"

#ifdef MEDTRAIN_WITH_CUDA
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include "kernels/cuda_check.h"
#endif

namespace medtrain::bench {

inline bool on_cuda() {
#ifdef MEDTRAIN_WITH_CUDA
  static const bool cuda = kernels::cuda_device_count() > 0 && torch::cuda::is_available();
  return cuda;
#else
  return false;
#endif
}

inline torch::Device bench_device() { return on_cuda() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU); }

inline void sync() {
  if (on_cuda()) torch::cuda::synchronize();
}

// Fails `state` with `message` (Google Benchmark 1.7 has no "skip" without an
// error); the timing loop is then not entered.
inline void fail(benchmark::State& state, const std::string& message) {
  state.SkipWithError(message.c_str());
  for (auto _ : state) {
  }
}

// False, and the benchmark skipped with the reason, without a CUDA device.
// Call first: before allocating the inputs.
inline bool require_cuda(benchmark::State& state) {
  if (on_cuda()) return true;
  fail(state, "skipped: " +
                  (kernels::built_with_cuda() ? kernels::describe_devices() : std::string("built without CUDA")) +
                  "; kernel benchmarks time GPU kernels only");
  return false;
}

// ---- validation -------------------------------------------------------------

// |got - want| <= rtol * |want| + atol * max|want|, elementwise: atol is
// relative to the reference's largest magnitude, so one tolerance fits
// outputs of any scale (a loss gradient of 1e-9 as well as a parameter of 1).
struct Tolerance {
  double rtol, atol;
};

// What the kernel's dtype can promise against an fp32 reference: fp32 math
// differs from ATen's in summation order only; bf16 rounds to 8 mantissa bits.
inline Tolerance tolerance_for(c10::ScalarType dtype) {
  return dtype == torch::kBFloat16 ? Tolerance{2e-2, 1e-2} : Tolerance{1e-4, 1e-5};
}

using Named = std::vector<std::pair<std::string, torch::Tensor>>;

// "" when every got[i] matches want[i] (same name, same shape, within tol),
// else what differs and where.
inline std::string mismatch(const Named& got, const Named& want, Tolerance tol) {
  if (got.size() != want.size()) return "the kernel returned " + std::to_string(got.size()) + " outputs, the reference " +
                                        std::to_string(want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const auto& name = want[i].first;
    if (!got[i].second.defined() || !want[i].second.defined()) return name + ": undefined";
    const auto g = got[i].second.detach().to(torch::kCPU, torch::kDouble);
    const auto w = want[i].second.detach().to(torch::kCPU, torch::kDouble);
    if (g.sizes() != w.sizes()) {
      std::ostringstream m;
      m << "validation failed: " << name << ": shape " << g.sizes() << ", reference " << w.sizes();
      return m.str();
    }
    if (g.numel() == 0) continue;
    // inf or nan must be matched exactly (an inf gradient is a valid result
    // to check); finite values within the tolerance.
    const auto finite = g.isfinite().logical_and(w.isfinite());
    const double scale = w.masked_fill(finite.logical_not(), 0).abs().max().item<double>();
    const auto nonfinite = finite.logical_not().logical_and(g.ne(w)).flatten();
    const auto excess =
        ((g - w).abs() - (tol.atol * scale + tol.rtol * w.abs())).masked_fill(finite.logical_not(), -1).flatten();
    const int64_t worst = nonfinite.any().item<bool>() ? nonfinite.to(torch::kByte).argmax().item<int64_t>()
                                                      : excess.argmax().item<int64_t>();
    if (nonfinite.any().item<bool>() || excess[worst].item<double>() > 0) {
      std::ostringstream m;
      m << "validation failed: " << name << "[" << worst << "] = " << g.flatten()[worst].item<double>()
        << ", reference " << w.flatten()[worst].item<double>() << " (rtol " << tol.rtol << ", atol " << tol.atol
        << " x max|reference| " << scale << ")";
      return m.str();
    }
  }
  return "";
}

// Runs before timing: false, and the benchmark failed with the message, when
// the kernel's outputs got() differ from the reference's want() (Named each),
// or computing them throws (a kernel's argument check, a CUDA error).
template <class Got, class Want>
bool validate(benchmark::State& state, Got got, Want want, Tolerance tol) {
  std::string m;
  try {
    m = mismatch(got(), want(), tol);
  } catch (const std::exception& e) {
    m = std::string("validation could not run: ") + e.what();
  }
  if (m.empty()) return true;
  fail(state, m);
  return false;
}

// ---- L2 scrub ----------------------------------------------------------------

#ifdef MEDTRAIN_WITH_CUDA
// A device buffer twice the L2 size; scrub() overwrites it on the current
// stream, evicting whatever the previous repetition left in L2.
class L2Scrubber {
 public:
  L2Scrubber() {
    int dev = 0, l2 = 0;
    MEDTRAIN_CUDA_CHECK(cudaGetDevice(&dev));
    MEDTRAIN_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev));
    bytes_ = std::max<size_t>(2 * static_cast<size_t>(l2), size_t{1} << 20);
    buffer_ = torch::empty({static_cast<int64_t>(bytes_)}, torch::TensorOptions().dtype(torch::kUInt8).device(torch::kCUDA));
  }
  void scrub() {
    MEDTRAIN_CUDA_CHECK(cudaMemsetAsync(buffer_.data_ptr(), ++value_ & 0xff, bytes_, stream()));
  }
  static cudaStream_t stream() { return c10::cuda::getCurrentCUDAStream().stream(); }

 private:
  torch::Tensor buffer_;
  size_t bytes_ = 0;
  int value_ = 0;
};

// Seconds of one call of f, with L2 scrubbed before it (not timed).
template <class F>
double time_once(L2Scrubber& l2, cudaEvent_t start, cudaEvent_t stop, F& f) {
  l2.scrub();
  MEDTRAIN_CUDA_CHECK(cudaEventRecord(start, L2Scrubber::stream()));
  f();
  MEDTRAIN_CUDA_CHECK(cudaEventRecord(stop, L2Scrubber::stream()));
  MEDTRAIN_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0.f;
  MEDTRAIN_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  return ms / 1e3;
}

// Events created and destroyed with the scope.
struct EventPair {
  cudaEvent_t start = nullptr, stop = nullptr;
  EventPair() {
    MEDTRAIN_CUDA_CHECK(cudaEventCreate(&start));
    MEDTRAIN_CUDA_CHECK(cudaEventCreate(&stop));
  }
  ~EventPair() {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }
  EventPair(const EventPair&) = delete;
  EventPair& operator=(const EventPair&) = delete;
};
#endif

// ---- bandwidth ---------------------------------------------------------------

constexpr int64_t kCopyBytes = int64_t{1} << 30;

// Device-to-device copy bandwidth in bytes/s (bytes read + written over the
// mean time of 20 scrubbed copies of 1 GiB), measured once per process.
inline double device_copy_bytes_per_second() {
#ifdef MEDTRAIN_WITH_CUDA
  static const double rate = [] {
    auto opts = torch::TensorOptions().dtype(torch::kUInt8).device(torch::kCUDA);
    auto src = torch::ones({kCopyBytes}, opts), dst = torch::empty({kCopyBytes}, opts);
    auto copy = [&] {
      MEDTRAIN_CUDA_CHECK(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), kCopyBytes, cudaMemcpyDeviceToDevice,
                                          L2Scrubber::stream()));
    };
    L2Scrubber l2;
    EventPair ev;
    copy();
    double seconds = 0;
    constexpr int kReps = 20;
    for (int i = 0; i < kReps; ++i) seconds += time_once(l2, ev.start, ev.stop, copy);
    return 2.0 * kCopyBytes * kReps / seconds;
  }();
  return rate;
#else
  return 0;
#endif
}

// Times f once per iteration (UseManualTime), after one untimed warm-up; L2
// scrubbed before each. `bytes`: the fewest the op must move per call (each
// input read once, each output written once) -> counters GB/s and of_copy.
// Call require_cuda (and validate) first.
template <class F>
void time_loop(benchmark::State& state, F&& f, const std::string& what, double bytes) {
#ifdef MEDTRAIN_WITH_CUDA
  // A CUDA error is this benchmark's failure, not the whole binary's. Before
  // the timing loop: fail() (which runs the empty loop Google Benchmark
  // expects); inside it: only the error, the loop must not start twice.
  std::unique_ptr<L2Scrubber> l2;
  std::unique_ptr<EventPair> ev;
  double copy_rate = 0;
  try {
    copy_rate = device_copy_bytes_per_second();
    l2 = std::make_unique<L2Scrubber>();
    ev = std::make_unique<EventPair>();
    f();
    sync();
  } catch (const std::exception& e) {
    fail(state, what + ": " + e.what());
    return;
  }
  double seconds = 0;
  int64_t reps = 0;
  try {
    for (auto _ : state) {
      const double s = time_once(*l2, ev->start, ev->stop, f);
      state.SetIterationTime(s);
      seconds += s;
      ++reps;
    }
  } catch (const std::exception& e) {
    state.SkipWithError((what + ": " + e.what()).c_str());
    return;
  }
  state.SetLabel(what);
  const double rate = reps > 0 && seconds > 0 ? bytes * static_cast<double>(reps) / seconds : 0;
  state.counters["GB/s"] = rate / 1e9;
  state.counters["of_copy"] = copy_rate > 0 ? rate / copy_rate : 0;
  state.counters["bytes"] = bytes;
#else
  (void)f;
  (void)bytes;
  fail(state, "skipped: medtrain built without CUDA (" + what + ")");
#endif
}

// torchvision resnet50(): 161 parameter tensors, 25,557,032 elements.
inline const std::vector<int64_t>& resnet50_param_numels() {
  static const std::vector<int64_t> n = {
      9408, 64, 64, 4096, 64, 64, 36864, 64, 64, 16384, 256, 256, 16384, 256, 256, 16384, 64, 64, 36864, 64, 64,
      16384, 256, 256, 16384, 64, 64, 36864, 64, 64, 16384, 256, 256, 32768, 128, 128, 147456, 128, 128, 65536,
      512, 512, 131072, 512, 512, 65536, 128, 128, 147456, 128, 128, 65536, 512, 512, 65536, 128, 128, 147456,
      128, 128, 65536, 512, 512, 65536, 128, 128, 147456, 128, 128, 65536, 512, 512, 131072, 256, 256, 589824,
      256, 256, 262144, 1024, 1024, 524288, 1024, 1024, 262144, 256, 256, 589824, 256, 256, 262144, 1024, 1024,
      262144, 256, 256, 589824, 256, 256, 262144, 1024, 1024, 262144, 256, 256, 589824, 256, 256, 262144, 1024,
      1024, 262144, 256, 256, 589824, 256, 256, 262144, 1024, 1024, 262144, 256, 256, 589824, 256, 256, 262144,
      1024, 1024, 524288, 512, 512, 2359296, 512, 512, 1048576, 2048, 2048, 2097152, 2048, 2048, 1048576, 512,
      512, 2359296, 512, 512, 1048576, 2048, 2048, 1048576, 512, 512, 2359296, 512, 512, 1048576, 2048, 2048,
      2048000, 1000};
  return n;
}

}  // namespace medtrain::bench
