#include "trainer/engine/optimizer_factory.h"

#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <map>
#include <string>

#include "kernels/fused_adamw.h"
#include "kernels/fused_sgd.h"
#include "trainer/user_error.h"

namespace medtrain::engine {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// optim.no_decay: parameters whose names end with one of the entries (biases,
// LayerNorm weights: transformers' recipe) form a second group without weight
// decay. Empty groups are left out (LibTorch refuses them). Frozen parameters
// are in no group.
template <class Options>
std::vector<torch::optim::OptimizerParamGroup> param_groups(const config::OptimConfig& cfg,
                                                            const torch::nn::Module& model, const Options& base) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;  // frozen (model.freeze_encoder): nothing to update
    bool exempt = false;
    for (const auto& tail : cfg.no_decay) exempt = exempt || ends_with(item.key(), tail);
    (exempt ? no_decay : decay).push_back(item.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decay.empty()) groups.emplace_back(decay, std::make_unique<Options>(base));
  if (!no_decay.empty()) {
    auto options = std::make_unique<Options>(base);
    options->weight_decay(0.0);
    groups.emplace_back(no_decay, std::move(options));
  }
  return groups;
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const config::OptimConfig& cfg,
                                                        torch::nn::Module& model, bool fused) {
  if (cfg.name == "adamw") {
    const auto options =
        torch::optim::AdamWOptions(cfg.lr).betas({cfg.beta1, cfg.beta2}).eps(cfg.eps).weight_decay(cfg.weight_decay);
    auto groups = param_groups(cfg, model, options);
    if (fused) return std::make_unique<kernels::FusedAdamW>(std::move(groups), options);
    return std::make_unique<torch::optim::AdamW>(std::move(groups), options);
  }
  if (cfg.name == "sgd") {
    const auto options =
        torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum).nesterov(cfg.nesterov).weight_decay(cfg.weight_decay);
    auto groups = param_groups(cfg, model, options);
    if (fused) return std::make_unique<kernels::FusedSGD>(std::move(groups), options);
    return std::make_unique<torch::optim::SGD>(std::move(groups), options);
  }
  throw UserError("optim.name: unknown optimizer '" + cfg.name + "' (adamw, sgd)");
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

namespace {

using StateMap = ska::flat_hash_map<void*, std::unique_ptr<torch::optim::OptimizerParamState>>;

std::map<std::string, torch::Tensor> params_by_name(const torch::nn::Module& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model.named_parameters()) out.emplace(item.key(), item.value());
  return out;
}

torch::Tensor step_tensor(int64_t step) { return torch::tensor({step}, torch::kInt64); }

}  // namespace

models::NamedTensors optimizer_state(const torch::optim::Optimizer& optimizer,
                                     const torch::nn::Module& model) {
  models::NamedTensors out;
  const StateMap& state = optimizer.state();
  for (const auto& item : model.named_parameters()) {
    auto it = state.find(item.value().unsafeGetTensorImpl());
    if (it == state.end()) continue;
    const std::string& name = item.key();
    if (auto* s = dynamic_cast<torch::optim::AdamWParamState*>(it->second.get())) {
      out.emplace_back(name + ".step", step_tensor(s->step()));
      out.emplace_back(name + ".exp_avg", s->exp_avg());
      out.emplace_back(name + ".exp_avg_sq", s->exp_avg_sq());
    } else if (auto* s = dynamic_cast<torch::optim::SGDParamState*>(it->second.get())) {
      if (s->momentum_buffer().defined()) out.emplace_back(name + ".momentum_buffer", s->momentum_buffer());
    }
  }
  return out;
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, const torch::nn::Module& model,
                          const models::NamedTensors& state) {
  const bool adamw = dynamic_cast<torch::optim::AdamW*>(&optimizer) != nullptr;
  auto params = params_by_name(model);
  std::map<std::string, std::map<std::string, torch::Tensor>> fields;  // param -> field -> value
  for (const auto& [key, value] : state) {
    auto dot = key.rfind('.');
    std::string param = key.substr(0, dot), field = key.substr(dot + 1);
    if (dot == std::string::npos || !params.count(param)) {
      throw UserError("optimizer state names no parameter of the model: " + key);
    }
    fields[param][field] = value;
  }
  StateMap& slots = optimizer.state();
  for (auto& [param, f] : fields) {
    const torch::Tensor& p = params.at(param);
    for (const auto& [field, value] : f) {
      if (field != "step" && value.sizes() != p.sizes()) {
        throw UserError("optimizer state " + param + "." + field + " has the wrong shape for the model");
      }
    }
    auto take = [&](const char* field) {
      auto it = f.find(field);
      if (it == f.end()) throw UserError("optimizer state lacks " + param + "." + field);
      return it->second.to(p.device()).clone();
    };
    if (adamw) {
      auto s = std::make_unique<torch::optim::AdamWParamState>();
      s->step(take("step").item<int64_t>());
      s->exp_avg(take("exp_avg"));
      s->exp_avg_sq(take("exp_avg_sq"));
      slots[p.unsafeGetTensorImpl()] = std::move(s);
    } else {
      auto s = std::make_unique<torch::optim::SGDParamState>();
      s->momentum_buffer(take("momentum_buffer"));
      slots[p.unsafeGetTensorImpl()] = std::move(s);
    }
  }
}

}  // namespace medtrain::engine
