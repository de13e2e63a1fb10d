#pragma once
// torch::optim::SGD with a fused multi-tensor step (kernels/multi_tensor_optim.h).
// Same options, same state (SGDParamState::momentum_buffer), and it *is a*
// torch::optim::SGD, so checkpoints stay interchangeable.
#include <torch/optim/sgd.h>

#include <vector>

namespace medtrain::kernels {

class FusedSGD : public torch::optim::SGD {
 public:
  FusedSGD(std::vector<torch::optim::OptimizerParamGroup> param_groups, torch::optim::SGDOptions defaults);
  FusedSGD(std::vector<torch::Tensor> params, torch::optim::SGDOptions defaults);

  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace medtrain::kernels
