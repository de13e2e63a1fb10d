#pragma once
// Shared between .cu kernels and their CPU references: MEDTRAIN_HD marks math
// helpers that compile for both, and DType names the element types the raw
// launchers take (no LibTorch types in .cu files).
#ifdef __CUDACC__
#define MEDTRAIN_HD __host__ __device__ __forceinline__
#else
#define MEDTRAIN_HD inline
#endif

namespace medtrain::kernels {

// f64 exists for the CPU references only (finite-difference gradient checks).
enum class DType { kF32, kBF16, kF64 };

}  // namespace medtrain::kernels
