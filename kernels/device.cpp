#include "kernels/device.h"

#include <string>

#ifdef MEDTRAIN_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace medtrain::kernels {

bool built_with_cuda() {
#ifdef MEDTRAIN_WITH_CUDA
  return true;
#else
  return false;
#endif
}

#ifdef MEDTRAIN_WITH_CUDA
namespace {
// cudaGetDeviceCount fails ("driver version is insufficient", "no CUDA-capable
// device") on GPU-less machines; that is an answer, not an error.
int query_count(std::string* reason) {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    if (reason) *reason = cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return 0;
  }
  if (n == 0 && reason) *reason = "no CUDA-capable device";
  return n;
}
}  // namespace

int cuda_device_count() { return query_count(nullptr); }

std::string describe_devices() {
  std::string reason;
  int n = query_count(&reason);
  if (n == 0) return "no CUDA device: " + reason;
  std::string out;
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    cudaGetDeviceProperties(&p, i);
    if (!out.empty()) out += "; ";
    out += "cuda:" + std::to_string(i) + " " + p.name + " (sm_" + std::to_string(p.major) +
           std::to_string(p.minor) + ", " + std::to_string(p.totalGlobalMem >> 30) + " GiB)";
  }
  return out;
}
#else
int cuda_device_count() { return 0; }
std::string describe_devices() { return "no CUDA device: medtrain was built with MEDTRAIN_CUDA=OFF"; }
#endif

}  // namespace medtrain::kernels
