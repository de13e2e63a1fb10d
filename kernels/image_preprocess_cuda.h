#pragma once
// Raw launcher of kernels/image_preprocess.cu, the CPU reference with the same
// signature, and the packed parameter layout they share (no LibTorch types).
#include <cuda_runtime_api.h>

#include <cstdint>

namespace medtrain::kernels {

// Per-sample parameters packed as fp32 rows of length N (index = row * N + n).
enum PreprocessRow : int { kSlope, kIntercept, kLow, kWidth, kGain, kBias, kFloatRows };
// Per-sample integer parameters packed as int32 rows of length N.
enum PreprocessIntRow : int { kFlip, kCropY, kCropX, kIntRows };

struct PreprocessShape {
  int64_t n, h, w, out_h, out_w, channels;
  float mean, std;
  bool channels_last;
};

namespace cuda {
// raw: device pixels (uint16 when is_signed is false, else int16), [n, h, w].
// out: device, fp32 (out_bf16 false) or bf16. fparams/iparams: device, packed as above.
void preprocess_images(const void* raw, bool is_signed, void* out, bool out_bf16,
                       const float* fparams, const int32_t* iparams, const PreprocessShape& s,
                       cudaStream_t stream);
}  // namespace cuda

namespace ref {
// The CPU reference (image_preprocess_ref.cpp), same arguments on host memory.
void preprocess_images(const void* raw, bool is_signed, void* out, bool out_bf16,
                       const float* fparams, const int32_t* iparams, const PreprocessShape& s);
}  // namespace ref

}  // namespace medtrain::kernels
