#pragma once
// Fused image preprocessing for stored DICOM pixel data, in one pass:
//   hu  = raw * slope[n] + intercept[n]                  (Modality LUT)
//   v   = clamp((hu - (center[n] - width[n]/2)) / width[n], 0, 1)   (linear VOI window)
//   v   = v * gain[n] + bias[n]                          (intensity jitter, optional)
//   out = (v - mean) / std                               (normalisation)
// read at (crop_y[n] + y, crop_x[n] + (flip[n] ? out_w-1-x : x)) (crop, then
// horizontal flip, optional), replicated to out_channels, written as fp32 or
// bf16 in NCHW or channels_last. The window is the plain linear one (not the
// DICOM "c - 0.5, w - 1" variant): the data loader passes what it decided.
//
// Randomness (flip, crop, jitter) comes in as small CPU tensors the caller
// draws, so CPU and GPU paths produce the same image. CUDA raw tensors run the
// kernel of image_preprocess.cu on the current stream (the parameters are
// copied to the device first); CPU ones the loops of image_preprocess_ref.cpp.
#include <ATen/core/Tensor.h>

namespace medtrain::kernels {

struct PreprocessParams {
  // Per sample, CPU, shape [N], fp32: required.
  at::Tensor slope, intercept, window_center, window_width;  // width > 0
  double mean = 0.0;
  double std = 1.0;  // > 0
  // Augmentation, per sample, CPU, shape [N]; undefined = off.
  at::Tensor flip;            // bool or uint8: mirror horizontally
  at::Tensor crop_y, crop_x;  // int32 or int64: top-left corner, 0 <= y <= H - out_h
  at::Tensor gain, bias;      // fp32: v * gain + bias (both or neither)
  int64_t out_h = 0, out_w = 0;  // 0: the input's H / W (no crop)
  int64_t out_channels = 1;      // 1, or 3 to feed RGB-pretrained models
  c10::ScalarType out_dtype = c10::kFloat;  // kFloat or kBFloat16
  bool channels_last = false;
};

// raw: contiguous uint16 or int16, [N,1,H,W] or [N,H,W]. Returns [N,C,out_h,out_w]
// (channels_last memory when asked) on raw's device.
at::Tensor preprocess_images(const at::Tensor& raw, const PreprocessParams& params);

// As preprocess_images, into `out` (shape [N,C,out_h,out_w], out_dtype, on
// raw's device, NCHW-contiguous or channels_last as asked): every element is written.
void preprocess_images_out(const at::Tensor& raw, const PreprocessParams& params, const at::Tensor& out);

// The same result from the unfused chain of ATen ops (casts, mul, add, clamp,
// per-sample narrow/flip, expand, contiguous): the "before" of the benchmark
// and an independent check of the reference.
at::Tensor preprocess_images_unfused(const at::Tensor& raw, const PreprocessParams& params);

}  // namespace medtrain::kernels
