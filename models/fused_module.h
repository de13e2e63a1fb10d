#pragma once
// Transformer blocks that can run medtrain's fused LayerNorm and bias+GELU
// kernels (kernels/layer_norm.h, kernels/bias_gelu.h) instead of LibTorch's
// ops, with the same parameters, names and state_dict either way.
//
// Note [Fused kernels in training only]: the switch is off unless the trainer
// turns it on (ImageModel::use_fused_kernels, from KernelChoice::transformer:
// CUDA with kernels.fused), and even then a block takes the fused path only in
// training mode. Evaluation, inference and export (which traces the model in
// eval mode; the ONNX converter knows aten ops, not our autograd Functions) run
// LibTorch's ops. On the CPU the kernels run their reference loops: correct
// (tests force the switch on to compare both paths) but slower than LibTorch.
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

namespace medtrain::models {

// A Module with the switch; blocks that use fused_layer_norm / fused_linear_gelu
// derive from it instead of torch::nn::Module.
class FusedModule : public torch::nn::Module {
 public:
  void set_fused_kernels(bool on) { fused_kernels_ = on; }
  bool fused_kernels_enabled() const { return fused_kernels_; }

 protected:
  // What forward passes as `fused` below: the switch, in training mode only.
  bool fused_now() const { return fused_kernels_ && is_training(); }

 private:
  bool fused_kernels_ = false;
};

// Sets the switch of `root` and of every FusedModule under it.
void set_fused_kernels(torch::nn::Module& root, bool on);

// norm(x). Fused: kernels::layer_norm with norm's weight, bias and eps, in the
// parameters' dtype (fp32: what autocast runs layer_norm in as well).
torch::Tensor layer_norm(torch::nn::LayerNorm& norm, const torch::Tensor& x, bool fused);

// gelu(fc(x)), exact (erf) or tanh-approximated. Fused: x @ fc.weight^T without
// the bias, then kernels::bias_gelu with fc.bias (cast to the matmul's dtype,
// bf16 under autocast). fp16 matmul outputs (precision fp16), which the kernel
// does not take, add the bias as their own op before the GELU.
torch::Tensor linear_gelu(torch::nn::Linear& fc, const torch::Tensor& x, bool tanh_approx, bool fused);

}  // namespace medtrain::models
