#pragma once
// Shared by scripts/bench/kernel_*_bench.cpp: device choice, timing with CUDA
// events (manual time) or the host clock on the CPU, bytes/s counters, and the
// ResNet-50 parameter sizes the optimizer benchmarks use. Benchmarks call the
// production ops of medtrain::kernels, so what is timed is what ships.
// Without a GPU every benchmark runs the CPU reference against the ATen
// composite and says so in its label.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include "kernels/device.h"

#ifdef MEDTRAIN_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace medtrain::bench {

inline bool on_cuda() {
  static const bool cuda = kernels::cuda_device_count() > 0 && torch::cuda::is_available();
  return cuda;
}

inline torch::Device bench_device() { return on_cuda() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU); }

inline void sync() {
  if (on_cuda()) torch::cuda::synchronize();
}

// Times f once per iteration: CUDA events around it on the GPU (the ops use
// the current stream, the legacy default one here), the host clock on the CPU.
// One untimed warm-up call first.
template <class F>
void time_loop(benchmark::State& state, F&& f, const std::string& what) {
  try {  // an op this device lacks is reported, not fatal to the whole binary
    f();
    sync();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    for (auto _ : state) {
    }
    return;
  }
  state.SetLabel(on_cuda() ? "cuda: " + what : "cpu (no GPU: reference loops / ATen composite): " + what);
#ifdef MEDTRAIN_WITH_CUDA
  if (on_cuda()) {
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    for (auto _ : state) {
      cudaEventRecord(start, nullptr);
      f();
      cudaEventRecord(stop, nullptr);
      cudaEventSynchronize(stop);
      float ms = 0.f;
      cudaEventElapsedTime(&ms, start, stop);
      state.SetIterationTime(ms / 1e3);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return;
  }
#endif
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
}

// Bytes moved per iteration (the fewest: each input read once, each output
// written once), reported as bytes/s over the measured time.
inline void set_bytes(benchmark::State& state, double bytes) {
  state.counters["bytes_per_second"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bytes"] = bytes;
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
