#pragma once
// The CPU backend: MPI non-blocking collectives on a private duplicate of the
// world communicator (so independent users, e.g. the gradient reducer and
// SyncBatchNorm, can never interleave their collectives). Open MPI progresses
// non-blocking collectives only inside MPI calls, so Work::test() is what
// moves a bucket along while backward computes.
#include <mpi.h>

#include <string>

#include "trainer/dist/communicator.h"

namespace medtrain::dist {

class MpiCommunicator : public Communicator {
 public:
  // Collective over MPI_COMM_WORLD (every rank must construct it, in the same order).
  MpiCommunicator(double timeout_s, std::string host);
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  std::shared_ptr<Work> allreduce_async(at::Tensor& tensor, ReduceOp op) override;
  void broadcast(at::Tensor& tensor, int root) override;
  at::Tensor allgather(const at::Tensor& tensor) override;
  void barrier() override;

 private:
  void wait_for(MPI_Request& request, const char* what);

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  double timeout_s_;
  std::string host_;
  int64_t sequence_ = 0;  // collectives issued, for the timeout message
};

}  // namespace medtrain::dist
