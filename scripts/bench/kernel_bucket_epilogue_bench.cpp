// Gradient bucket epilogue on a 25 M-element fp32 bucket (ResNet-50 in one
// bucket): kernels::bucket_epilogue_ (one pass) against bucket.mul_(f) plus an
// isfinite().all() reduction. Bytes: the bucket read and written once.
#include "kernels/bucket_epilogue.h"
#include "scripts/bench/kernel_bench_util.h"

namespace {

using namespace medtrain::bench;

constexpr int64_t kNumel = 25557032;

// Alternates 1/2 and 2 so repeated runs keep the values (never time on zeros).
double factor(int64_t i) { return i % 2 ? 2.0 : 0.5; }

void BM_BucketEpilogue_Unfused(benchmark::State& state) {
  auto bucket = torch::randn({kNumel}, torch::TensorOptions().device(bench_device()));
  auto found = torch::zeros({1}, torch::TensorOptions().device(bench_device()));
  int64_t i = 0;
  time_loop(
      state,
      [&] {
        bucket.mul_(factor(i++));
        found.copy_(torch::isfinite(bucket).all().logical_not());  // stays on the device: no sync
      },
      "mul_ + isfinite().all()");
  set_bytes(state, 8.0 * kNumel);
}

void BM_BucketEpilogue_Fused(benchmark::State& state) {
  auto bucket = torch::randn({kNumel}, torch::TensorOptions().device(bench_device()));
  auto found = torch::zeros({1}, torch::TensorOptions().device(bench_device()));
  int64_t i = 0;
  time_loop(state, [&] { medtrain::kernels::bucket_epilogue_(bucket, factor(i++), found); },
            "kernels::bucket_epilogue_");
  set_bytes(state, 8.0 * kNumel);
}

BENCHMARK(BM_BucketEpilogue_Unfused)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BucketEpilogue_Fused)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
