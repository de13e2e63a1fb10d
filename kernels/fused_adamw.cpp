#include "kernels/fused_adamw.h"

#include <utility>

#include "kernels/multi_tensor_optim.h"
#include "kernels/optimizer_lists.h"

namespace medtrain::kernels {
namespace {

void refuse_amsgrad(const std::vector<torch::optim::OptimizerParamGroup>& groups) {
  for (const auto& g : groups) {
    TORCH_CHECK(!static_cast<const torch::optim::AdamWOptions&>(g.options()).amsgrad(),
                "FusedAdamW: amsgrad is not supported; use torch::optim::AdamW for it");
  }
}

}  // namespace

FusedAdamW::FusedAdamW(std::vector<torch::optim::OptimizerParamGroup> param_groups,
                       torch::optim::AdamWOptions defaults)
    : torch::optim::AdamW(std::move(param_groups), std::move(defaults)) {
  refuse_amsgrad(this->param_groups());
}

FusedAdamW::FusedAdamW(std::vector<torch::Tensor> params, torch::optim::AdamWOptions defaults)
    : FusedAdamW({torch::optim::OptimizerParamGroup(std::move(params))}, std::move(defaults)) {}

torch::Tensor FusedAdamW::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  refuse_amsgrad(param_groups());  // options may have been edited since construction
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    detail::ByDevice lists;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto key = p.unsafeGetTensorImpl();
      auto it = state_.find(key);
      if (it == state_.end()) {  // the state torch::optim::AdamW creates, same layout
        auto s = std::make_unique<torch::optim::AdamWParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        state_[key] = std::move(s);
        it = state_.find(key);
      }
      auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
      s.step(s.step() + 1);
      s.exp_avg(detail::state_like_param(p, s.exp_avg()));
      s.exp_avg_sq(detail::state_like_param(p, s.exp_avg_sq()));
      auto& l = lists[p.device().str()];
      l.params.push_back(p);
      l.grads.push_back(detail::grad_like_param(p, "FusedAdamW"));
      l.state0.push_back(s.exp_avg());
      l.state1.push_back(s.exp_avg_sq());
      l.steps.push_back(s.step());
    }
    const AdamWStepOptions opt{o.lr(), std::get<0>(o.betas()), std::get<1>(o.betas()), o.eps(),
                               o.weight_decay()};
    for (auto& [device, l] : lists) {
      fused_adamw_step(l.params, l.grads, l.state0, l.state1, l.steps, opt);
    }
  }
  return loss;
}

}  // namespace medtrain::kernels
