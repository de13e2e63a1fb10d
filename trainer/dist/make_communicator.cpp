#include "trainer/dist/make_communicator.h"

#include "trainer/dist/mpi_communicator.h"
#include "trainer/dist/nccl_communicator.h"
#include "trainer/user_error.h"

namespace medtrain::dist {

std::unique_ptr<Communicator> make_communicator(const std::string& backend, c10::Device device, double timeout_s,
                                                const std::string& host) {
  const std::string chosen = backend == "auto" ? (device.is_cuda() ? "nccl" : "mpi") : backend;
  if (chosen == "nccl") {
    if (!device.is_cuda()) throw UserError("dist.backend=nccl needs run.device=cuda (this run is on the CPU)");
    return make_nccl_communicator(timeout_s, host);
  }
  if (device.is_cuda()) {
    throw UserError("dist.backend=mpi reduces CPU tensors; on run.device=cuda use dist.backend=nccl or auto");
  }
  return std::make_unique<MpiCommunicator>(timeout_s, host);
}

}  // namespace medtrain::dist
