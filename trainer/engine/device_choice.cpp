#include "trainer/engine/device_choice.h"

#ifdef MEDTRAIN_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

#include "kernels/device.h"
#include "trainer/user_error.h"

namespace medtrain::engine {

DeviceChoice choose_device(const std::string& requested, const dist::World& world) {
  const int gpus = kernels::cuda_device_count();
  if (requested == "cpu" || (requested == "auto" && gpus == 0)) {
    std::string why = requested == "cpu" ? "run.device=cpu" : kernels::describe_devices();
    return {c10::Device(c10::kCPU), "device cpu (" + why + ")"};
  }
  if (gpus == 0) {
    throw UserError("run.device=cuda but " + kernels::describe_devices() +
                    "; use run.device=cpu or auto");
  }
  // One GPU per local rank; the distributed launcher sets local_rank.
  if (world.local_size > gpus || world.local_rank >= gpus) {
    throw UserError("this node runs " + std::to_string(world.local_size) + " ranks but has " + std::to_string(gpus) +
                    " GPU(s); start at most one rank per GPU (e.g. --ntasks-per-node=" + std::to_string(gpus) + ")");
  }
  c10::Device dev(c10::kCUDA, static_cast<c10::DeviceIndex>(world.local_rank));
#ifdef MEDTRAIN_WITH_CUDA
  // Streams, events and NCCL's communicator all bind to the current device.
  c10::cuda::set_device(dev.index());
#endif
  return {dev, "device " + dev.str() + " (" + kernels::describe_devices() + ")"};
}

}  // namespace medtrain::engine
