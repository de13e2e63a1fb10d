// The bandwidth ceiling the memory-bound kernels are judged against: a large
// device-to-device copy (cudaMemcpyAsync), bytes counted as read + written.
// Without a GPU: a host memcpy of the same size, labelled as such.
#include <cstring>

#include "scripts/bench/kernel_bench_util.h"

namespace {

using namespace medtrain::bench;

void BM_CopyCeiling(benchmark::State& state) {
  const int64_t n = state.range(0);  // bytes
  auto src = torch::randint(0, 255, {n}, torch::TensorOptions().dtype(torch::kUInt8).device(bench_device()));
  auto dst = torch::empty_like(src);
  time_loop(
      state,
      [&] {
#ifdef MEDTRAIN_WITH_CUDA
        if (on_cuda()) {
          cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), n, cudaMemcpyDeviceToDevice, nullptr);
          return;
        }
#endif
        std::memcpy(dst.data_ptr(), src.data_ptr(), n);
      },
      "cudaMemcpy D2D (host memcpy without GPU)");
  set_bytes(state, 2.0 * n);
}
BENCHMARK(BM_CopyCeiling)->Arg(256 << 20)->Arg(1 << 30)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
