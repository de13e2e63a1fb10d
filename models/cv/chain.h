#pragma once
// A torch::nn::Sequential that can sit inside another: Sequential's forward
// is a template, which AnyModule cannot store, so torchvision-style nesting
// (features.1.0.block.0.1.weight) needs a forward with a fixed signature.
// Children are named "0", "1", ... as in PyTorch's nn.Sequential.
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

namespace medtrain::models {

class ChainImpl : public torch::nn::SequentialImpl {
 public:
  using torch::nn::SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return torch::nn::SequentialImpl::forward(x); }
};
TORCH_MODULE(Chain);

}  // namespace medtrain::models
