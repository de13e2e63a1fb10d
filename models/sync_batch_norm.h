#pragma once
// BatchNorm2d that can compute its batch statistics over every rank.
// Until enable_sync_batch_norm() gives it a way to sum across ranks it is
// exactly torch::nn::BatchNorm2d (same parameter and buffer names, same
// forward), so torchvision weights load unchanged. Synced, training-mode
// forward uses the mean and variance of the global batch and backward sums
// its two statistics across ranks as well, which makes N ranks with batch B
// compute what one process computes with batch N*B (model.sync_bn).
// models/ knows nothing of MPI: the cross-rank sum is a callback.
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <memory>

namespace medtrain::models {

// Sums a float64 CPU-or-device tensor across ranks, in place, blocking.
using CrossRankSum = std::function<void(at::Tensor&)>;

class SyncBatchNorm2dImpl : public torch::nn::BatchNorm2dImpl {
 public:
  using torch::nn::BatchNorm2dImpl::BatchNorm2dImpl;
  torch::Tensor forward(const torch::Tensor& input);
  void set_cross_rank_sum(std::shared_ptr<CrossRankSum> sum) { sum_ = std::move(sum); }

 private:
  std::shared_ptr<CrossRankSum> sum_;
};
TORCH_MODULE(SyncBatchNorm2d);

// Turns on cross-rank statistics in every SyncBatchNorm2d of `model`;
// returns how many it found (0: the model has no batch norm to sync).
int enable_sync_batch_norm(torch::nn::Module& model, CrossRankSum sum);

}  // namespace medtrain::models
