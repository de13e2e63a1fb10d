#pragma once
// The MPI side of a process: initialised only when a launcher (mpirun, srun)
// started us, so a plain `medtrain train` is rank 0 of 1 without MPI. Knows the
// world and the node-local layout, and can end the whole job (MPI_Abort) when
// one rank fails, so the others never wait for it.
#include <memory>
#include <string>

#include "trainer/dist/world.h"

namespace medtrain::dist {

class MpiRuntime {
 public:
  // MPI_Init_thread when the environment shows an MPI launcher, else nullptr.
  static std::unique_ptr<MpiRuntime> init_if_launched();
  ~MpiRuntime();  // MPI_Finalize
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

  const World& world() const { return world_; }
  const std::string& host() const { return host_; }
  // Ends every rank of the job with `code` (MPI_Abort); does not return.
  [[noreturn]] void abort(int code) const;

 private:
  MpiRuntime();
  World world_;
  std::string host_;
};

}  // namespace medtrain::dist
