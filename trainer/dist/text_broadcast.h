#pragma once
// A short text from one rank to all: e.g. rank 0's outcome of writing a
// checkpoint, so that every rank acts on it together instead of one rank
// stopping while the others wait in the next collective.
#include <c10/core/Device.h>

#include <string>

#include "trainer/dist/communicator.h"

namespace medtrain::dist {

constexpr size_t kMaxBroadcastText = 4096;  // longer texts are cut (messages, not data)

// Collective: every rank calls it; returns `root`'s text (others' `text` is
// ignored). `device`: where the backend moves tensors (CUDA for NCCL).
std::string broadcast_text(Communicator& comm, const std::string& text, int root, c10::Device device);

}  // namespace medtrain::dist
