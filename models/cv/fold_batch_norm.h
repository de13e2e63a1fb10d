#pragma once
// Batch norm in eval mode is a per-channel affine map, y = x * scale + shift
// with scale = gamma / sqrt(running_var + eps), shift = beta - running_mean * scale.
// When it directly follows a convolution it folds into that convolution's
// weights and bias (BN(conv(x)) == conv'(x)); when something non-linear sits
// between them (DenseNet's pre-activation BN-ReLU-Conv) it stays an affine map.
// Folding is computed in float64 and rounded once to the weight's dtype, so the
// folded model differs from the unfolded one by rounding only.
#include <ATen/core/Tensor.h>

#include <optional>

namespace torch::nn {
class BatchNorm2dImpl;
}  // namespace torch::nn

namespace medtrain::models {

// Per-channel affine of an eval-mode batch norm; scale and shift are [C] on the
// norm's device and dtype.
struct ChannelAffine {
  at::Tensor scale, shift;
};

ChannelAffine batch_norm_affine(const torch::nn::BatchNorm2dImpl& bn);

// A convolution with the batch norm that follows it folded in: weight
// [out, in/groups, k...] and bias [out], same dtype and device as `weight`.
struct FoldedConv {
  at::Tensor weight, bias;
};

// `bias` may be undefined (a convolution without bias). Throws ModelError when
// the norm's channel count is not the convolution's output channel count.
FoldedConv fold_batch_norm(const at::Tensor& weight, const std::optional<at::Tensor>& bias,
                           const torch::nn::BatchNorm2dImpl& bn);

}  // namespace medtrain::models
