#pragma once
// Gradient-bucket epilogue for the reducer: after the all-reduce of a flat fp32
// bucket, one pass scales it by `factor` (1 / (world_size * loss_scale)) in
// place and raises `found_inf` (1-element fp32, set to 1, never cleared) when
// any scaled value is inf or NaN. Replaces `bucket.mul_(f)` + an
// `isfinite().all()` reduction (two reads, one write, one sync-free flag).
// CUDA: runs on the current stream of the bucket's device (call it on the
// stream the all-reduce ran on, or after it). CPU: the reference loop.
#include <ATen/core/Tensor.h>

namespace medtrain::kernels {

// bucket: contiguous fp32 (any shape; used flat). found_inf: 1-element fp32 on
// the bucket's device.
void bucket_epilogue_(const at::Tensor& bucket, double factor, const at::Tensor& found_inf);

namespace ref {
// CPU loop: returns whether a non-finite value was seen.
bool bucket_epilogue(float* data, int64_t n, float factor);
}  // namespace ref

}  // namespace medtrain::kernels
