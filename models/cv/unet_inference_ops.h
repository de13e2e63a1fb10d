#pragma once
// The operations of the U-Net inference graph (fused_unet.h), for 2 or 3
// spatial dimensions:
//  - PackedConv: a convolution or transposed convolution with bias, its weights
//    prepacked once per input shape for oneDNN (`mkldnn::_convolution_pointwise`
//    / `_convolution_transpose_pointwise`, as FusedConv2d in fused_conv.h does
//    for 2D) on channels_last(_3d) activations; at::convolution elsewhere.
//    Convolutions (not the transposed ones) run medtrain's own oneDNN
//    primitives on the CPU where the build has them (own_conv.h).
//  - instance_norm_leaky_relu_: InstanceNorm (affine, statistics of each input)
//    followed by LeakyReLU, in place, in two passes over channels_last memory
//    (Note [InstanceNorm in two passes] in the .cpp), in place or into a
//    channel slice of a concatenation buffer;
//  - max_pool_2x: the 2x down-sampling, reading such a slice.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "models/cv/own_conv.h"

namespace medtrain::models {

class PackedConv {
 public:
  // weight: [out, in, k...] (convolution) or [in, out, k...] (transposed);
  // bias [out]. Stride 1 for convolutions; for transposed ones `stride` is
  // the upsampling factor and there is no padding.
  PackedConv(const at::Tensor& weight, const at::Tensor& bias, int64_t padding, int64_t stride, bool transposed,
             const c10::Device& device);
  PackedConv(PackedConv&& other) noexcept;

  // conv(x) + bias; channels_last(_3d) on the oneDNN path.
  at::Tensor operator()(const at::Tensor& x) const;

  bool uses_onednn() const { return onednn_; }

 private:
  static constexpr size_t kPackedShapes = 4;  // as FusedConv2d (fused_conv.h)
  at::Tensor packed(at::IntArrayRef sizes) const;

  at::Tensor weight_, bias_;
  std::optional<OwnConv> own_;  // not transposed, CPU, when enabled
  std::vector<int64_t> padding_, stride_, dilation_, output_padding_;
  bool transposed_ = false;
  bool onednn_ = false;
  mutable std::mutex mutex_;
  mutable std::vector<std::pair<std::vector<int64_t>, at::Tensor>> packed_;  // most recent last
};

// The memory format of channels-last activations of x's rank (4-D or 5-D).
at::MemoryFormat channels_last_for(const at::Tensor& x);

// x <- leaky_relu(instance_norm(x) * gamma + beta, slope), per (sample,
// channel) statistics over the spatial dimensions (biased variance, as
// torch.nn.InstanceNorm without running statistics). x: float [N, C, ...],
// written in place; gamma, beta: [C] on x's device.
void instance_norm_leaky_relu_(at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta, double eps,
                               double slope);

// The same, written into `out` of x's sizes instead (x is not changed): `out`
// may be a channel slice of a wider channels_last buffer (a U-Net level's
// concatenation of encoder and upsampled features), so no torch.cat copies it.
void instance_norm_leaky_relu_into(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta, double eps,
                                   double slope, at::Tensor& out);

// Max pool with kernel 2 and stride 2 over every spatial dimension (floor
// mode), as max_pool2d/3d; reads a channel slice in place (no copy, no
// indices), returns dense channels_last(_3d).
at::Tensor max_pool_2x(const at::Tensor& x);

}  // namespace medtrain::models
