#pragma once
// Who this process is among the ranks of a run. Logging, seeding, the sampler
// and checkpointing take a World from day one so that the distributed backend
// plugs in without touching them; a plain process is rank 0 of 1.
namespace medtrain::dist {

struct World {
  int rank = 0;
  int size = 1;
  int local_rank = 0;
  int local_size = 1;

  bool is_main() const { return rank == 0; }
};

}  // namespace medtrain::dist
