#pragma once
// The CUDA backend: NCCL collectives on a dedicated stream. The unique id is
// created by rank 0 and broadcast over MPI; each collective waits for the
// compute stream (event) before it starts, and wait() orders the compute
// stream after it, so communication overlaps whatever runs in between.
// Hangs are caught on the host: wait() polls the collective's event and
// ncclCommGetAsyncError until dist.timeout_s, then aborts the communicator.
#include <memory>
#include <string>

#include "trainer/dist/communicator.h"

namespace medtrain::dist {

// Needs MPI initialised (for the id broadcast) and the current CUDA device set
// to this rank's GPU. Throws std::runtime_error when built without CUDA.
std::unique_ptr<Communicator> make_nccl_communicator(double timeout_s, const std::string& host);

}  // namespace medtrain::dist
