// SyncBatchNorm2d: two "ranks" (threads) each holding half a batch must
// compute what torch::nn::BatchNorm2d computes on the whole batch: the same
// output, the same input gradient, the same running statistics, and weight/bias
// gradients that add up to the whole-batch ones. The cross-rank sum is a
// two-thread rendezvous standing in for the all-reduce.
#include "models/sync_batch_norm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace medtrain::models {
namespace {

class TwoThreadSum {
 public:
  void operator()(at::Tensor& t) {
    std::unique_lock<std::mutex> lock(mutex_);
    const int64_t generation = generation_;
    if (arrived_ == 0) {
      total_ = t.clone();
    } else {
      total_ += t;
    }
    if (++arrived_ == 2) {
      result_ = total_;
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != generation; });
    }
    t.copy_(result_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int arrived_ = 0;
  int64_t generation_ = 0;
  at::Tensor total_, result_;
};

TEST(SyncBatchNorm, UnsyncedIsPlainBatchNorm) {
  torch::manual_seed(0);
  SyncBatchNorm2d mine(4);
  torch::nn::BatchNorm2d ref(4);
  const auto x = torch::randn({3, 4, 5, 5});
  EXPECT_TRUE(torch::equal(mine->forward(x), ref->forward(x)));
  std::vector<std::string> names;
  for (auto& p : mine->named_parameters()) names.push_back(p.key());
  for (auto& b : mine->named_buffers()) names.push_back(b.key());
  EXPECT_EQ(names, (std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}));
}

TEST(SyncBatchNorm, TwoHalvesEqualTheWholeBatch) {
  torch::manual_seed(1);
  const int64_t channels = 3;
  auto x = torch::randn({6, channels, 4, 5}, torch::kDouble) * 2 + 0.5;
  auto weight = torch::rand({channels}, torch::kDouble) + 0.5, bias = torch::randn({channels}, torch::kDouble);
  auto upstream = torch::randn({6, channels, 4, 5}, torch::kDouble);

  torch::nn::BatchNorm2d ref(channels);
  ref->to(torch::kDouble);
  {
    torch::NoGradGuard g;
    ref->weight.copy_(weight);
    ref->bias.copy_(bias);
  }
  auto xr = x.clone().requires_grad_(true);
  auto yr = ref->forward(xr);
  (yr * upstream).sum().backward();

  TwoThreadSum sum;
  std::vector<SyncBatchNorm2d> ranks = {SyncBatchNorm2d(channels), SyncBatchNorm2d(channels)};
  std::vector<torch::Tensor> xs(2), ys(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    ranks[r]->to(torch::kDouble);
    {
      torch::NoGradGuard g;
      ranks[r]->weight.copy_(weight);
      ranks[r]->bias.copy_(bias);
    }
    ranks[r]->set_cross_rank_sum(std::make_shared<CrossRankSum>([&sum](at::Tensor& t) { sum(t); }));
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      xs[r] = x.narrow(0, 3 * r, 3).clone().requires_grad_(true);
      ys[r] = ranks[r]->forward(xs[r]);
      (ys[r] * upstream.narrow(0, 3 * r, 3)).sum().backward();
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_TRUE(torch::allclose(torch::cat({ys[0], ys[1]}), yr, 1e-10, 1e-10));
  EXPECT_TRUE(torch::allclose(torch::cat({xs[0].grad(), xs[1].grad()}), xr.grad(), 1e-9, 1e-10));
  EXPECT_TRUE(torch::allclose(ranks[0]->weight.grad() + ranks[1]->weight.grad(), ref->weight.grad(), 1e-9, 1e-10));
  EXPECT_TRUE(torch::allclose(ranks[0]->bias.grad() + ranks[1]->bias.grad(), ref->bias.grad(), 1e-9, 1e-10));
  for (int r = 0; r < 2; ++r) {
    EXPECT_TRUE(torch::allclose(ranks[r]->running_mean, ref->running_mean, 1e-10, 1e-12));
    EXPECT_TRUE(torch::allclose(ranks[r]->running_var, ref->running_var, 1e-10, 1e-12));
    EXPECT_EQ(ranks[r]->num_batches_tracked.item<int64_t>(), 1);
  }
}

// float32 activations whose mean is large against their spread: the variance
// must not lose its digits to E[x^2] - E[x]^2 (ATen's BatchNorm uses Welford).
TEST(SyncBatchNorm, Float32WithLargeMeanMatchesBatchNorm) {
  torch::manual_seed(2);
  auto x = torch::randn({8, 2, 6, 6}) * 0.05 + 40;
  torch::nn::BatchNorm2d ref(2);
  auto xr = x.clone().requires_grad_(true);
  auto yr = ref->forward(xr);
  yr.square().sum().backward();
  TwoThreadSum sum;
  std::vector<SyncBatchNorm2d> ranks = {SyncBatchNorm2d(2), SyncBatchNorm2d(2)};
  std::vector<torch::Tensor> xs(2), ys(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    ranks[r]->set_cross_rank_sum(std::make_shared<CrossRankSum>([&sum](at::Tensor& t) { sum(t); }));
    threads.emplace_back([&, r] {
      xs[r] = x.narrow(0, 4 * r, 4).clone().requires_grad_(true);
      ys[r] = ranks[r]->forward(xs[r]);
      ys[r].square().sum().backward();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(torch::allclose(torch::cat({ys[0], ys[1]}), yr, 1e-4, 1e-4))
      << (torch::cat({ys[0], ys[1]}) - yr).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(torch::cat({xs[0].grad(), xs[1].grad()}), xr.grad(), 1e-3, 1e-2));
}

TEST(SyncBatchNorm, EnableFindsEveryLayer) {
  torch::nn::Sequential net(SyncBatchNorm2d(2), torch::nn::ReLU(), SyncBatchNorm2d(3), torch::nn::BatchNorm2d(3));
  EXPECT_EQ(enable_sync_batch_norm(*net, [](at::Tensor&) {}), 2);
}

}  // namespace
}  // namespace medtrain::models
