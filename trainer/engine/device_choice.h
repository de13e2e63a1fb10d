#pragma once
// run.device -> the torch device to train on. "auto" picks CUDA when a device
// is present and says so; "cuda" without one is a user error, not a fallback.
#include <c10/core/Device.h>

#include <string>

#include "trainer/dist/world.h"

namespace medtrain::engine {

struct DeviceChoice {
  c10::Device device{c10::kCPU};
  std::string reason;  // one line for the log: what was chosen and why
};

DeviceChoice choose_device(const std::string& requested, const dist::World& world);

}  // namespace medtrain::engine
