#include "kernels/fused_sgd.h"

#include <utility>

#include "kernels/multi_tensor_optim.h"
#include "kernels/optimizer_lists.h"

namespace medtrain::kernels {

FusedSGD::FusedSGD(std::vector<torch::optim::OptimizerParamGroup> param_groups,
                   torch::optim::SGDOptions defaults)
    : torch::optim::SGD(std::move(param_groups), std::move(defaults)) {}

FusedSGD::FusedSGD(std::vector<torch::Tensor> params, torch::optim::SGDOptions defaults)
    : FusedSGD({torch::optim::OptimizerParamGroup(std::move(params))}, std::move(defaults)) {}

torch::Tensor FusedSGD::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const torch::optim::SGDOptions&>(group.options());
    const bool has_momentum = o.momentum() != 0;
    detail::ByDevice lists;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& l = lists[p.device().str()];
      l.params.push_back(p);
      l.grads.push_back(detail::grad_like_param(p, "FusedSGD"));
      if (!has_momentum) continue;  // torch keeps no state without momentum
      auto key = p.unsafeGetTensorImpl();
      auto it = state_.find(key);
      if (it == state_.end()) {
        state_[key] = std::make_unique<torch::optim::SGDParamState>();
        it = state_.find(key);
      }
      auto& s = static_cast<torch::optim::SGDParamState&>(*it->second);
      const bool first = !s.momentum_buffer().defined();
      if (first) {  // torch clones the gradient here; the kernel writes it
        s.momentum_buffer(torch::empty_like(p, torch::MemoryFormat::Preserve));
      } else {
        s.momentum_buffer(detail::state_like_param(p, s.momentum_buffer()));
      }
      l.state0.push_back(s.momentum_buffer());
      l.first.push_back(first ? 1 : 0);
    }
    const SgdStepOptions opt{o.lr(), o.momentum(), o.dampening(), o.weight_decay(), o.nesterov()};
    for (auto& [device, l] : lists) fused_sgd_step(l.params, l.grads, l.state0, l.first, opt);
  }
  return loss;
}

}  // namespace medtrain::kernels
