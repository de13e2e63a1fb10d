// The bandwidth ceiling the memory-bound kernels are judged against: a large
// device-to-device copy (cudaMemcpyAsync on the current stream), bytes counted
// as read + written, L2 scrubbed before each copy. The other kernel benchmarks
// measure the same ceiling once per process (device_copy_bytes_per_second) and
// report their GB/s as a fraction of it (of_copy); here of_copy is ~1 by
// construction, a check of the method. Skipped without a GPU.
#include "scripts/bench/kernel_bench_util.h"

namespace {

using namespace medtrain::bench;

void BM_CopyCeiling(benchmark::State& state) {
  if (!require_cuda(state)) return;
  const int64_t n = state.range(0);  // bytes
  auto src = torch::randint(0, 255, {n}, torch::TensorOptions().dtype(torch::kUInt8).device(bench_device()));
  auto dst = torch::zeros_like(src);
  auto copy = [&] {
#ifdef MEDTRAIN_WITH_CUDA
    MEDTRAIN_CUDA_CHECK(
        cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), n, cudaMemcpyDeviceToDevice, L2Scrubber::stream()));
#endif
  };
  if (!validate(state, [&]() -> Named {
        copy();
        return {{"dst", dst}};
      }, [&]() -> Named { return {{"src", src}}; },
                     {0, 0})) {
    return;
  }
  time_loop(state, copy, "cudaMemcpyAsync D2D", 2.0 * n);
}
BENCHMARK(BM_CopyCeiling)->Arg(256 << 20)->Arg(1 << 30)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
