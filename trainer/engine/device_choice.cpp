#include "trainer/engine/device_choice.h"

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
  if (world.local_rank >= gpus) {
    throw UserError("local rank " + std::to_string(world.local_rank) + " needs a GPU but this node has " +
                    std::to_string(gpus));
  }
  c10::Device dev(c10::kCUDA, static_cast<c10::DeviceIndex>(world.local_rank));
  return {dev, "device " + dev.str() + " (" + kernels::describe_devices() + ")"};
}

}  // namespace medtrain::engine
