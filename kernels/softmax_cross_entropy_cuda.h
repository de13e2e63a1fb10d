#pragma once
// Raw launcher of kernels/softmax_cross_entropy.cu and the CPU reference with
// the same arguments (no LibTorch types).
#include <cuda_runtime_api.h>

#include <cstdint>

namespace medtrain::kernels {

struct CrossEntropyRows {
  const void* logits;     // [n, v], fp32 or bf16 (logits_bf16)
  bool logits_bf16;
  const int64_t* target;  // [n]
  int64_t n, v, ignore_index;
  float smoothing;
  const float* inv_count;  // 1 / (rows not ignored), one value
  float* row_loss;         // [n]: each row's loss term (0 when ignored; NaN for a bad target)
  void* grad;              // [n, v] in the logits' dtype, or null
};

namespace cuda {
void softmax_cross_entropy_rows(const CrossEntropyRows& a, cudaStream_t stream);
}  // namespace cuda

namespace ref {
void softmax_cross_entropy_rows(const CrossEntropyRows& a);
}  // namespace ref

}  // namespace medtrain::kernels
