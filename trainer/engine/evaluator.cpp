#include "trainer/engine/evaluator.h"

#include <torch/torch.h>

#include <memory>

#include "data/sampler.h"
#include "trainer/engine/autocast.h"
#include "trainer/engine/training_data.h"
#include "trainer/metrics/classification_metrics.h"

namespace medtrain::engine {

std::map<std::string, double> evaluate(models::ImageModel& model, const data::Dataset& dataset,
                                       const config::Config& cfg, c10::Device device) {
  model.eval();
  torch::NoGradGuard no_grad;
  std::vector<size_t> order(dataset.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
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
  if (logits.empty()) return out;
  auto all_logits = torch::cat(logits), all_targets = torch::cat(targets);
  out["val/loss"] = torch::nn::functional::cross_entropy(all_logits, all_targets).item<double>();
  out["val/accuracy"] = metrics::accuracy(all_logits, all_targets);
  out["val/auroc"] = metrics::auroc(all_logits, all_targets);
  out["val/samples"] = static_cast<double>(all_targets.size(0));
  return out;
}

}  // namespace medtrain::engine
