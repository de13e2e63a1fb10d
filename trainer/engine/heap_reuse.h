#pragma once
// Note [Heap kept between steps]
// glibc serves a block larger than its mmap threshold (128 KiB at first,
// raised to the largest block freed since, up to 32 MiB) with a fresh
// mapping, and returns heap memory to the kernel whenever more than twice
// that threshold lies free at the top. A CPU forward (and backward) allocates
// and frees activations of megabytes per layer, so nearly every one was a new
// mapping whose pages faulted in and were zeroed by the kernel on first
// touch, every step: the 2D U-Net spent about a quarter of its CPU inference
// forward on that (infer_forward_bench, 2 threads: 17.4 -> 22.4 img/s at
// batch 1 with the heap kept), the quickstart's ResNet-18 training step ~10%
// (train_step_bench: 133 -> 148 img/s; docs/BENCHMARKS.md). Serving blocks up
// to 32 MiB (glibc's upper limit for the threshold) from the heap and
// trimming only past kTrimThresholdBytes free lets the next step reuse the
// same pages. The price: up to that much freed memory stays with the process
// between steps. Blocks over 32 MiB (whole volumes, large batches) are still
// mapped and unmapped each time. CUDA tensors are not affected (LibTorch's
// caching allocator keeps those).
#include <cstddef>

namespace medtrain::engine {

inline constexpr size_t kTrimThresholdBytes = size_t{1} << 30;

// Sets the process's malloc thresholds as above (glibc only; elsewhere a
// no-op). Idempotent; returns false when the C library refused or has no
// such settings.
bool keep_heap_between_steps();

}  // namespace medtrain::engine
