#include "trainer/engine/evaluator.h"

#include <torch/torch.h>

#include <memory>

#include "data/sampler.h"
#include "trainer/engine/autocast.h"
#include "trainer/engine/training_data.h"
#include "trainer/metrics/classification_metrics.h"

namespace medtrain::engine {

std::map<std::string, double> evaluate(models::ImageModel& model, const data::Dataset& dataset,
                                       const config::Config& cfg, c10::Device device,
                                       dist::Communicator* comm) {
  model.eval();
  torch::NoGradGuard no_grad;
  const size_t rank = comm ? static_cast<size_t>(comm->rank()) : 0;
  const size_t world = comm ? static_cast<size_t>(comm->size()) : 1;
  std::vector<size_t> order;
  for (size_t i = rank; i < dataset.size(); i += world) order.push_back(i);
  // Non-owning: the loader lives only inside this call.
  std::shared_ptr<const data::Dataset> view(&dataset, [](const data::Dataset*) {});
  data::BatchLoader loader(view, order, loader_options(cfg, 0, /*training=*/false));
  std::vector<torch::Tensor> logits, targets;
  AutocastGuard autocast(device.type(), autocast_dtype(cfg.run.precision));
  while (auto batch = loader.next()) {
    if (batch->targets.numel() == 0) continue;
    auto x = batch->images.to(device);
    if (cfg.model.channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    logits.push_back(model.forward(x).to(torch::kFloat32).cpu());
    targets.push_back(batch->targets);
  }
  std::map<std::string, double> out;
  const auto num_classes = static_cast<int64_t>(cfg.model.num_classes);
  auto all_logits = logits.empty() ? torch::zeros({0, num_classes}) : torch::cat(logits);
  auto all_targets = targets.empty() ? torch::zeros({0}, torch::kLong) : torch::cat(targets);
  if (comm) {
    const auto on = device.is_cuda() ? device : c10::Device(c10::kCPU);
    all_logits = dist::allgather_rows(*comm, all_logits.to(on)).cpu();
    all_targets = dist::allgather_rows(*comm, all_targets.to(on)).cpu();
  }
  if (all_targets.numel() == 0) return out;
  out["val/loss"] = torch::nn::functional::cross_entropy(all_logits, all_targets).item<double>();
  out["val/accuracy"] = metrics::accuracy(all_logits, all_targets);
  out["val/auroc"] = metrics::auroc(all_logits, all_targets);
  out["val/samples"] = static_cast<double>(all_targets.size(0));
  return out;
}

}  // namespace medtrain::engine
