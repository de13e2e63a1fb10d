#pragma once
// Raw launcher of kernels/bucket_epilogue.cu (no LibTorch types).
#include <cuda_runtime_api.h>

#include <cstdint>

namespace medtrain::kernels::cuda {

// data[i] *= factor for i < n; *found_inf = 1 when a result is not finite.
void bucket_epilogue(float* data, int64_t n, float factor, float* found_inf, cudaStream_t stream);

}  // namespace medtrain::kernels::cuda
