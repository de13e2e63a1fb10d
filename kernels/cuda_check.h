#pragma once
// Error checking for CUDA runtime calls and kernel launches in the .cu files.
// Kept free of LibTorch headers so nvcc translation units stay cheap to build;
// the thrown std::runtime_error surfaces through the LibTorch-facing op as is.
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace medtrain::kernels::detail {

[[noreturn]] inline void throw_cuda_error(cudaError_t err, const char* what, const char* file,
                                          int line) {
  throw std::runtime_error(std::string("CUDA error in ") + what + " (" + file + ":" +
                           std::to_string(line) + "): " + cudaGetErrorString(err));
}

}  // namespace medtrain::kernels::detail

#define MEDTRAIN_CUDA_CHECK(expr)                                                        \
  do {                                                                                   \
    cudaError_t medtrain_err_ = (expr);                                                  \
    if (medtrain_err_ != cudaSuccess)                                                    \
      ::medtrain::kernels::detail::throw_cuda_error(medtrain_err_, #expr, __FILE__, __LINE__); \
  } while (0)

// After every <<<...>>>: launch-configuration errors surface here, not later.
#define MEDTRAIN_CUDA_CHECK_LAUNCH(name) MEDTRAIN_CUDA_CHECK(cudaGetLastError())
