#pragma once
// Picks the backend for a run: NCCL for CUDA tensors, MPI for CPU tensors
// (dist.backend: auto), or the one the config names when it fits the device.
#include <c10/core/Device.h>

#include <memory>
#include <string>

#include "trainer/dist/communicator.h"

namespace medtrain::dist {

// Collective: every rank calls it, in the same order. A backend that cannot
// work on `device` is a UserError naming dist.backend.
std::unique_ptr<Communicator> make_communicator(const std::string& backend, c10::Device device, double timeout_s,
                                                const std::string& host);

}  // namespace medtrain::dist
