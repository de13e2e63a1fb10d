#pragma once
// Fused softmax cross-entropy for classification / language heads: one kernel
// reads each logits row twice and writes the loss terms and d(loss)/d(logits)
// in the forward pass, so no [N, V] log-softmax is kept for backward (the
// peak-memory win at vocabularies of 30k+). Semantics of
// at::cross_entropy(logits, target, weight={}, Mean, ignore_index, label_smoothing):
//   loss = mean over rows with target != ignore_index of
//          (1 - eps) * -log p[target] + eps / V * sum_j -log p[j]
// (NaN when every row is ignored, as PyTorch). Ignored rows get zero gradient.
//
// logits: [N, V] fp32 or bf16, row-contiguous (stride(1) == 1, stride(0) == V);
// target: [N] int64 on the same device. CUDA: current stream, no host sync
// (an out-of-range target makes the loss NaN; on the CPU it is an error).
#include <ATen/core/Tensor.h>

#include <utility>

namespace medtrain::kernels {

struct CrossEntropyOptions {
  int64_t ignore_index = -100;
  double label_smoothing = 0.0;  // in [0, 1]
};

// Autograd-aware: returns the scalar loss (fp32); its backward scales the
// gradient computed in the forward. The graph may be backpropagated once
// (the saved gradient is scaled in place).
at::Tensor softmax_cross_entropy(const at::Tensor& logits, const at::Tensor& target,
                                 const CrossEntropyOptions& options = {});

// Without autograd: {loss (fp32 scalar), grad of the mean loss w.r.t. logits
// (logits' dtype; undefined when want_grad is false)}.
std::pair<at::Tensor, at::Tensor> softmax_cross_entropy_forward(const at::Tensor& logits,
                                                                const at::Tensor& target,
                                                                const CrossEntropyOptions& options,
                                                                bool want_grad = true);

}  // namespace medtrain::kernels
