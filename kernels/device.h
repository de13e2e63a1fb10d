#pragma once
// Which compute device this process can use. Never throws for a missing GPU:
// on a machine without a driver, CUDA reports an error that means "no device".
#include <string>

namespace medtrain::kernels {

// Number of CUDA devices usable from this process (0 without driver or GPU, or
// when medtrain was built without CUDA).
int cuda_device_count();

// One human-readable line: "cuda:0 NVIDIA H100 80GB HBM3 (sm_90, 79 GiB)" or why
// there is no GPU ("no CUDA device: <reason>").
std::string describe_devices();

// Whether this binary was built with the CUDA kernels (MEDTRAIN_CUDA=ON).
bool built_with_cuda();

}  // namespace medtrain::kernels
