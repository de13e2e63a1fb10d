#pragma once
// Collectives between the ranks of a run, one interface for both backends:
// NCCL for CUDA tensors, MPI for CPU tensors. Every wait has a deadline
// (dist.timeout_s): a dead or stuck peer becomes a CollectiveTimeout naming the
// operation, this rank and its host, never an endless hang.
#include <ATen/core/Tensor.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace medtrain::dist {

class CollectiveTimeout : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A collective in flight. wait() returns once the result is in the tensor (for
// CUDA: once the current stream is ordered after it) or throws CollectiveTimeout.
class Work {
 public:
  virtual ~Work() = default;
  virtual bool test() = 0;  // true when complete; drives progress for MPI
  virtual void wait() = 0;
};

enum class ReduceOp { kSum, kMax, kAvg };

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;

  // In place on a contiguous tensor; every rank passes the same shape and dtype.
  virtual std::shared_ptr<Work> allreduce_async(at::Tensor& tensor, ReduceOp op) = 0;
  virtual void broadcast(at::Tensor& tensor, int root) = 0;
  // Concatenation of every rank's `tensor` along dim 0 (equal shapes).
  virtual at::Tensor allgather(const at::Tensor& tensor) = 0;
  virtual void barrier() = 0;

  void allreduce(at::Tensor& tensor, ReduceOp op = ReduceOp::kSum) { allreduce_async(tensor, op)->wait(); }
};

// Rows of every rank's tensor concatenated, for tensors whose dim 0 differs by
// rank (evaluation shards): sizes are exchanged first, then padded rows dropped.
at::Tensor allgather_rows(Communicator& comm, const at::Tensor& tensor);

}  // namespace medtrain::dist
