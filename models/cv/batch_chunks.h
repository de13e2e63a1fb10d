#pragma once
// Runs a CPU inference forward over a large batch a few images at a time.
//
// Note [Batch chunks]: the fused graphs' convolutions are memory-bound between
// layers at large batches: at batch 32 one ResNet-50 activation is up to
// 100 MB and every layer streams its input and output through DRAM, so
// batch 32 ran no faster per image than batch 1 (docs/BENCHMARKS.md). In
// chunks of kBatchChunk images the activations of a layer stay in the
// caches; each image's result is the same (the convolutions are per image).
// The weights are packed once per chunk shape (fused_conv.h: the chunk and a
// smaller last chunk).
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace medtrain::models {

inline constexpr int64_t kBatchChunk = 4;

// forward(x) on the CPU, split along the batch into chunks of kBatchChunk and
// concatenated; any other device, or a batch that fits one chunk, in one call.
template <typename Forward>
at::Tensor forward_in_chunks(const at::Tensor& x, Forward&& forward) {
  if (!x.device().is_cpu() || x.size(0) <= kBatchChunk) return forward(x);
  std::vector<at::Tensor> outs;
  for (const at::Tensor& chunk : x.split(kBatchChunk)) outs.push_back(forward(chunk));
  return at::cat(outs);
}

}  // namespace medtrain::models
