#pragma once
// What the launcher tells a rank through its environment. Open MPI's mpirun
// sets OMPI_COMM_WORLD_*; Slurm's srun sets SLURM_* (and PMIX_RANK with
// --mpi=pmix). Node-local rank and size pick the GPU; when no launcher says,
// the MPI runtime falls back to a shared-memory split of the world.
#include <functional>
#include <optional>
#include <string>

namespace medtrain::dist {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

EnvLookup process_env();

// True when a parallel launcher started this process (so MPI must be initialised).
bool launched_by_mpi(const EnvLookup& env);

struct LocalLayout {
  int local_rank = 0;
  int local_size = 1;
};

// From the launcher's variables; nullopt when they are absent or malformed.
std::optional<LocalLayout> local_layout_from_env(const EnvLookup& env);

}  // namespace medtrain::dist
