// DevicePrefetcher hands out the loader's batches in order, unchanged, on the
// target device. On the CPU it must not read ahead (a run that stops early
// never touches a batch it will not use); on CUDA the copies run one batch
// ahead on a side stream and must still arrive intact and in order.
#include "trainer/engine/device_prefetcher.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <atomic>

namespace medtrain::engine {
namespace {

class CountingDataset : public data::Dataset {
 public:
  explicit CountingDataset(size_t n) : n_(n) {}
  size_t size() const override { return n_; }
  data::Sample get(size_t i, uint64_t) const override {
    ++decoded;
    data::Sample s;
    s.image = torch::full({1, 3, 5}, static_cast<float>(i));
    s.target = torch::scalar_tensor(static_cast<int64_t>(i), torch::kInt64);
    return s;
  }
  std::string describe(size_t i) const override { return "sample " + std::to_string(i); }
  int64_t label(size_t i) const override { return static_cast<int64_t>(i); }
  mutable std::atomic<size_t> decoded{0};

 private:
  size_t n_;
};

data::LoaderOptions serial(size_t batch) {
  data::LoaderOptions o;
  o.batch_size = batch;
  o.workers = 0;  // decode on demand: the decode count shows any read-ahead
  return o;
}

std::vector<size_t> iota(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

void expect_batches_in_order(DevicePrefetcher& batches, c10::Device device, size_t n, size_t b) {
  for (size_t k = 0; k * b < n; ++k) {
    auto batch = batches.next();
    ASSERT_TRUE(batch) << "batch " << k;
    EXPECT_EQ(batch->images.device(), device);
    EXPECT_EQ(batch->targets.device(), device);
    const auto targets = batch->targets.cpu();
    const auto images = batch->images.cpu();
    for (int64_t j = 0; j < targets.size(0); ++j) {
      const auto want = static_cast<int64_t>(k * b + j);
      EXPECT_EQ(targets[j].item<int64_t>(), want);
      EXPECT_TRUE(images[j].eq(static_cast<float>(want)).all().item<bool>()) << "image of sample " << want;
    }
  }
  EXPECT_FALSE(batches.next());
}

TEST(DevicePrefetcher, CpuPassesBatchesThroughInOrder) {
  auto ds = std::make_shared<CountingDataset>(10);
  data::BatchLoader loader(ds, iota(10), serial(4));
  DevicePrefetcher batches(loader, c10::Device(c10::kCPU));
  expect_batches_in_order(batches, c10::Device(c10::kCPU), 10, 4);
}

TEST(DevicePrefetcher, CpuDoesNotReadAhead) {
  auto ds = std::make_shared<CountingDataset>(12);
  data::BatchLoader loader(ds, iota(12), serial(3));
  DevicePrefetcher batches(loader, c10::Device(c10::kCPU));
  ASSERT_TRUE(batches.next());
  EXPECT_EQ(ds->decoded.load(), 3u);
}

TEST(DevicePrefetcher, CudaCopiesAheadOnASideStreamInOrder) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: the side-stream copy runs on GPU machines only";
  auto ds = std::make_shared<CountingDataset>(11);
  auto options = serial(4);
  options.pin_memory = true;
  data::BatchLoader loader(ds, iota(11), options);
  DevicePrefetcher batches(loader, c10::Device(c10::kCUDA, 0));
  expect_batches_in_order(batches, c10::Device(c10::kCUDA, 0), 11, 4);
}

}  // namespace
}  // namespace medtrain::engine
