#pragma once
// The LibTorch side of a raw CUDA launch: a device guard for `t`'s device and
// the current stream of that device. Only in builds with CUDA (MEDTRAIN_WITH_CUDA).
#ifdef MEDTRAIN_WITH_CUDA
#include <ATen/core/Tensor.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

namespace medtrain::kernels::detail {

inline cudaStream_t current_stream_for(const at::Tensor& t) {
  return at::cuda::getCurrentCUDAStream(t.device().index()).stream();
}

}  // namespace medtrain::kernels::detail
#endif
