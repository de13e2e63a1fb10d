// Bucket epilogue: scale + non-finite flag in one pass over a flat fp32 buffer.
// 16-byte loads/stores on the aligned body, scalar head and tail; a grid of a
// few blocks per SM walks the buffer (grid-stride), each block votes once.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/bucket_epilogue_cuda.h"
#include "kernels/cuda_check.h"

namespace medtrain::kernels::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads)
    bucket_epilogue_kernel(float* data, int64_t head, int64_t n4, int64_t n, float factor,
                           float* found_inf) {
  bool bad = false;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  float4* body = reinterpret_cast<float4*>(data + head);
  for (int64_t i = first; i < n4; i += stride) {
    float4 v = body[i];
    v.x *= factor;
    v.y *= factor;
    v.z *= factor;
    v.w *= factor;
    bad |= !(isfinite(v.x) && isfinite(v.y) && isfinite(v.z) && isfinite(v.w));
    body[i] = v;
  }
  // head (before the first 16-byte boundary) and tail (after the last one)
  const int64_t rest_begin = head + n4 * 4;
  for (int64_t i = first; i < head + (n - rest_begin); i += stride) {
    const int64_t j = i < head ? i : rest_begin + (i - head);
    data[j] *= factor;
    bad |= !isfinite(data[j]);
  }
  if (__syncthreads_or(bad) && threadIdx.x == 0) *found_inf = 1.f;
}

}  // namespace

void bucket_epilogue(float* data, int64_t n, float factor, float* found_inf, cudaStream_t stream) {
  if (n == 0) return;
  const auto addr = reinterpret_cast<uintptr_t>(data);
  const int64_t head = std::min<int64_t>(n, static_cast<int64_t>(((16 - addr % 16) % 16) / 4));
  const int64_t n4 = (n - head) / 4;
  int device = 0, sms = 0;
  MEDTRAIN_CUDA_CHECK(cudaGetDevice(&device));
  MEDTRAIN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const int64_t wanted = (std::max<int64_t>(n4, n - n4 * 4) + kThreads - 1) / kThreads;
  const int blocks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(wanted, 8LL * sms)));
  bucket_epilogue_kernel<<<blocks, kThreads, 0, stream>>>(data, head, n4, n, factor, found_inf);
  MEDTRAIN_CUDA_CHECK_LAUNCH("bucket_epilogue_kernel");
}

}  // namespace medtrain::kernels::cuda
