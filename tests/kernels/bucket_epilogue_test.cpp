// Bucket epilogue: the reference against the composite (mul + isfinite) on the
// CPU, the flag contract, argument errors; on a GPU the kernel against the
// reference at odd sizes and misaligned starts.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "kernels/bucket_epilogue.h"
#include "tests/kernels/kernel_test_util.h"

namespace medtrain::kernels {
namespace {

using testing::expect_error;
using testing::fresh_seed;

TEST(BucketEpilogue, MatchesCompositeOnCpu) {
  fresh_seed();
  const double factor = 1.0 / (3 * 1024.0);
  auto bucket = torch::randn({100003}) * 1000;
  auto want = bucket * static_cast<float>(factor);
  auto found = torch::zeros({1});
  bucket_epilogue_(bucket, factor, found);
  EXPECT_TRUE(torch::equal(bucket, want));
  EXPECT_EQ(found.item<float>(), 0.f);
}

TEST(BucketEpilogue, FlagsInfAndNanAndNeverClearsTheFlag) {
  fresh_seed();
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()}) {
    auto bucket = torch::randn({517});
    bucket[torch::randint(517, {1}).item<int64_t>()] = bad;
    auto found = torch::zeros({1});
    bucket_epilogue_(bucket, 0.5, found);
    EXPECT_EQ(found.item<float>(), 1.f) << bad;
  }
  auto found = torch::ones({1});
  auto clean = torch::randn({33});
  bucket_epilogue_(clean, 0.5, found);
  EXPECT_EQ(found.item<float>(), 1.f);
  auto huge = torch::full({8}, 3e38f);  // overflow to inf after scaling counts too
  found.zero_();
  bucket_epilogue_(huge, 4.0, found);
  EXPECT_EQ(found.item<float>(), 1.f);
}

TEST(BucketEpilogue, RefusesBadArguments) {
  auto found = torch::zeros({1});
  expect_error([&] { bucket_epilogue_(torch::randn({8, 2}).t(), 1.0, found); }, "bucket is not contiguous");
  expect_error([&] { bucket_epilogue_(torch::randn({8}, torch::kDouble), 1.0, found); }, "bucket must be Float");
  expect_error([&] { bucket_epilogue_(torch::randn({8}), 1.0, torch::zeros({2})); }, "found_inf must hold one element");
  expect_error([&] { bucket_epilogue_(torch::randn({8}), std::nan(""), found); }, "factor must be finite");
}

TEST(BucketEpilogueCuda, MatchesReferenceAtOddSizesAndOffsets) {
  MEDTRAIN_SKIP_WITHOUT_CUDA();
  fresh_seed();
  for (int64_t n : {1, 3, 4, 4097, (1 << 20) + 3}) {
    for (int64_t offset : {0, 1, 3}) {
      auto storage = torch::randn({n + offset}) * 100;
      auto host = storage.narrow(0, offset, n).clone();
      auto dev = storage.to(torch::kCUDA).narrow(0, offset, n);  // misaligned start when offset % 4
      const double factor = 1.0 / (8 * 32768.0);
      auto found = torch::zeros({1}, torch::kCUDA);
      bucket_epilogue_(dev, factor, found);
      const bool host_bad = ref::bucket_epilogue(host.data_ptr<float>(), n, static_cast<float>(factor));
      EXPECT_TRUE(torch::equal(dev.cpu(), host)) << "n=" << n << " offset=" << offset;
      EXPECT_EQ(found.item<float>(), host_bad ? 1.f : 0.f);
      for (int64_t pos : {int64_t{0}, n / 2, n - 1}) {  // head, body, tail
        dev.fill_(1.f);
        dev[pos] = std::numeric_limits<float>::quiet_NaN();
        found.zero_();
        bucket_epilogue_(dev, factor, found);
        EXPECT_EQ(found.item<float>(), 1.f) << "n=" << n << " offset=" << offset << " pos=" << pos;
      }
    }
  }
}

}  // namespace
}  // namespace medtrain::kernels
