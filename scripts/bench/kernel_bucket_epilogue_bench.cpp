// Gradient bucket epilogue on a 25 M-element fp32 bucket (ResNet-50 in one
// bucket): kernels::bucket_epilogue_ (one pass) against bucket.mul_(f) plus an
// isfinite().all() reduction. The fused kernel is validated first against the
// ATen pair on copies of the bucket, once finite and once with an inf (the
// flag must rise). Bytes: the bucket read and written once.
#include <limits>

#include "kernels/bucket_epilogue.h"
#include "scripts/bench/kernel_bench_util.h"

namespace {

using namespace medtrain::bench;

constexpr int64_t kNumel = 25557032;

// Alternates 1/2 and 2 so repeated runs keep the values (never time on zeros).
double factor(int64_t i) { return i % 2 ? 2.0 : 0.5; }

void unfused(const torch::Tensor& bucket, double f, const torch::Tensor& found) {
  bucket.mul_(f);
  found.copy_(torch::isfinite(bucket).all().logical_not());  // stays on the device: no sync
}

// The fused (first) or unfused epilogue of a copy of `bucket`: {bucket, found_inf}.
Named epilogue(const torch::Tensor& bucket, bool fused) {
  auto b = bucket.clone();
  auto found = torch::zeros({1}, bucket.options());
  if (fused) {
    medtrain::kernels::bucket_epilogue_(b, 0.25, found);
  } else {
    unfused(b, 0.25, found);
  }
  return {{"bucket", b}, {"found_inf", found}};
}

bool validate_on(benchmark::State& state, const torch::Tensor& bucket) {
  return validate(state, [&] { return epilogue(bucket, true); }, [&] { return epilogue(bucket, false); }, {0, 0});
}

void run(benchmark::State& state, bool fused) {
  if (!require_cuda(state)) return;
  auto bucket = torch::randn({kNumel}, torch::TensorOptions().device(bench_device()));
  auto found = torch::zeros({1}, torch::TensorOptions().device(bench_device()));
  if (fused) {
    auto with_inf = bucket.clone();
    with_inf[kNumel / 3] = std::numeric_limits<float>::infinity();
    if (!validate_on(state, bucket) || !validate_on(state, with_inf)) return;
  }
  int64_t i = 0;
  if (fused) {
    time_loop(state, [&] { medtrain::kernels::bucket_epilogue_(bucket, factor(i++), found); },
              "kernels::bucket_epilogue_", 8.0 * kNumel);
  } else {
    time_loop(state, [&] { unfused(bucket, factor(i++), found); }, "mul_ + isfinite().all()", 8.0 * kNumel);
  }
}

void BM_BucketEpilogue_Unfused(benchmark::State& state) { run(state, false); }
void BM_BucketEpilogue_Fused(benchmark::State& state) { run(state, true); }

BENCHMARK(BM_BucketEpilogue_Unfused)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_BucketEpilogue_Fused)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
