#include "trainer/engine/data_parallel.h"

#include <ATen/ATen.h>

#include "models/sync_batch_norm.h"
#include "trainer/dist/make_communicator.h"
#include "trainer/dist/rank_agreement.h"
#include "trainer/user_error.h"

namespace medtrain::engine {

namespace {

size_t mib(double megabytes) { return static_cast<size_t>(megabytes * 1024 * 1024); }

// Frozen parameters (requires_grad false) get no gradient and stay out of the reducer.
dist::GradientReducer::NamedParams trainable(models::ImageModel& model) {
  dist::GradientReducer::NamedParams params;
  for (auto& item : model.named_parameters()) {
    if (item.value().requires_grad()) params.emplace_back(item.key(), item.value());
  }
  return params;
}

}  // namespace

std::unique_ptr<DataParallel> DataParallel::setup(const config::Config& cfg, const dist::World& world,
                                                  const std::string& host, c10::Device device,
                                                  models::ImageModel& model, const std::string& config_yaml,
                                                  bool fused_epilogue) {
  if (world.size == 1) return nullptr;
  std::unique_ptr<DataParallel> dp(new DataParallel());
  dp->device_ = device;
  dp->model_ = &model;
  dp->comm_ = dist::make_communicator(cfg.dist.backend, device, cfg.dist.timeout_s, host);
  dist::check_ranks_agree(*dp->comm_, model, config_yaml);
  dist::broadcast_model(*dp->comm_, model);
  if (cfg.model.sync_bn) {
    // Its own communicator: its collectives interleave with the reducer's
    // buckets in backward, and each communicator keeps its own order.
    dp->bn_comm_ = dist::make_communicator(cfg.dist.backend, device, cfg.dist.timeout_s, host);
    auto* bn = dp->bn_comm_.get();
    const int found = models::enable_sync_batch_norm(model, [bn](at::Tensor& t) { bn->allreduce(t); });
    if (found == 0) throw UserError("model.sync_bn: " + cfg.model.name + " has no batch norm layers to sync");
  }
  dist::ReducerOptions options;
  options.limits = {mib(cfg.dist.first_bucket_mb), mib(cfg.dist.bucket_mb)};
  options.find_unused_parameters = cfg.dist.find_unused_parameters;
  options.fused_epilogue = fused_epilogue;
  dp->reducer_ = std::make_unique<dist::GradientReducer>(trainable(model), *dp->comm_, options);
  return dp;
}

void DataParallel::begin_backward(bool last_micro_step) {
  if (last_micro_step) reducer_->check_parameters(trainable(*model_));
  reducer_->begin_backward(last_micro_step);
}

void DataParallel::sync_buffers(models::ImageModel& model) { dist::broadcast_buffers(*comm_, model); }

std::vector<double> DataParallel::sum(const std::vector<double>& values) {
  auto t = at::tensor(values, at::kDouble).to(device_);
  comm_->allreduce(t, dist::ReduceOp::kSum);
  t = t.cpu();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

}  // namespace medtrain::engine
