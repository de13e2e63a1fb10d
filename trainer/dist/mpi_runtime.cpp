#include "trainer/dist/mpi_runtime.h"

#include <mpi.h>

#include <cstdio>
#include <cstdlib>

#include "trainer/dist/launch_env.h"
#include "trainer/dist/mpi_check.h"

namespace medtrain::dist {

namespace {

LocalLayout shared_memory_split(int world_rank) {
  MPI_Comm node;
  mpi_check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &node),
            "Comm_split_type");
  LocalLayout l;
  MPI_Comm_rank(node, &l.local_rank);
  MPI_Comm_size(node, &l.local_size);
  MPI_Comm_free(&node);
  return l;
}

}  // namespace

std::unique_ptr<MpiRuntime> MpiRuntime::init_if_launched() {
  if (!launched_by_mpi(process_env())) return nullptr;
  return std::unique_ptr<MpiRuntime>(new MpiRuntime());
}

MpiRuntime::MpiRuntime() {
  // Autograd hooks may launch collectives from a backward thread (CUDA), so we
  // ask for full thread support; CPU backward runs on the calling thread.
  int provided = 0;
  mpi_check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "Init_thread");
  // Errors come back as codes (and become exceptions with context) instead of
  // MPI printing and aborting on its own.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_.size);
  auto layout = local_layout_from_env(process_env());
  if (!layout) layout = shared_memory_split(world_.rank);
  world_.local_rank = layout->local_rank;
  world_.local_size = layout->local_size;
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  host_.assign(name, static_cast<size_t>(len));
}

MpiRuntime::~MpiRuntime() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void MpiRuntime::abort(int code) const {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this satisfies [[noreturn]]
}

}  // namespace medtrain::dist
