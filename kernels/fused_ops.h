#pragma once
// The public fused ops of medtrain::kernels in one include, with what each
// replaces. Every op runs its CUDA kernel for CUDA tensors (current stream, no
// host sync unless stated) and a plain-loop CPU reference otherwise, so a
// CPU-only build behaves the same. docs/kernels.md has the wiring, the tests
// and the benchmarks of each.
//
//   preprocess_images(raw, params)            raw DICOM batch -> model input in one pass
//                                             (rescale, window, normalise, crop/flip/jitter,
//                                             fp32/bf16, NCHW/channels_last)
//   FusedAdamW / FusedSGD                     drop-in torch::optim::AdamW / SGD (same options,
//                                             state and checkpoints; multi-tensor step)
//   fused_adamw_step / fused_sgd_step         the multi-tensor steps themselves (AMP-aware)
//   multi_tensor_unscale_check_               GradScaler unscale + inf/NaN check, one launch
//   bucket_epilogue_(bucket, f, found_inf)    after a bucket all-reduce: scale + inf check
//   softmax_cross_entropy(logits, target, o)  at::cross_entropy (mean, ignore_index,
//                                             label_smoothing), grad computed in forward
//   layer_norm(x, gamma, beta, eps)           at::layer_norm over the last dim, autograd
//   bias_gelu(x, bias, tanh_approx)           at::gelu(x + bias), autograd
#include "kernels/bias_gelu.h"
#include "kernels/bucket_epilogue.h"
#include "kernels/fused_adamw.h"
#include "kernels/fused_sgd.h"
#include "kernels/image_preprocess.h"
#include "kernels/layer_norm.h"
#include "kernels/multi_tensor_optim.h"
#include "kernels/softmax_cross_entropy.h"
