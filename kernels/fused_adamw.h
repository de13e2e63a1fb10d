#pragma once
// torch::optim::AdamW with a fused multi-tensor step (kernels/multi_tensor_optim.h).
// Same options (AdamWOptions), same state (AdamWParamState: step, exp_avg,
// exp_avg_sq), same serialization, and it *is a* torch::optim::AdamW, so
// checkpoints and code that dynamic_casts to AdamW work unchanged. CUDA
// parameters take one launch per ~96 tensors; CPU ones the reference loops.
// amsgrad is refused (the kernels do not implement it).
#include <torch/optim/adamw.h>

#include <vector>

namespace medtrain::kernels {

class FusedAdamW : public torch::optim::AdamW {
 public:
  FusedAdamW(std::vector<torch::optim::OptimizerParamGroup> param_groups,
             torch::optim::AdamWOptions defaults = {});
  explicit FusedAdamW(std::vector<torch::Tensor> params, torch::optim::AdamWOptions defaults = {});

  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace medtrain::kernels
