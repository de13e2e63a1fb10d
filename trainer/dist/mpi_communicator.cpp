#include "trainer/dist/mpi_communicator.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "trainer/dist/mpi_check.h"

namespace medtrain::dist {

namespace {

using Clock = std::chrono::steady_clock;

MPI_Datatype mpi_type(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kLong: return MPI_INT64_T;
    case at::kInt: return MPI_INT32_T;
    case at::kByte: return MPI_UINT8_T;
    case at::kChar: return MPI_INT8_T;
    default:
      throw std::invalid_argument(fmt::format("mpi backend: dtype {} is not supported", c10::toString(t.scalar_type())));
  }
}

MPI_Op mpi_op(ReduceOp op) { return op == ReduceOp::kMax ? MPI_MAX : MPI_SUM; }

void check_cpu_contiguous(const at::Tensor& t, const char* what) {
  if (!t.device().is_cpu() || !t.is_contiguous()) {
    throw std::invalid_argument(fmt::format("mpi backend: {} needs a contiguous CPU tensor", what));
  }
}

// Polls a request until it completes or its deadline passes. Sleeps between
// polls (after a short spin) so a waiting rank leaves the core to computation.
bool poll_until(MPI_Request& request, Clock::time_point deadline) {
  int done = 0;
  for (int spins = 0;; ++spins) {
    mpi_check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "Test");
    if (done) return true;
    if (Clock::now() > deadline) return false;
    if (spins > 100) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

class MpiWork : public Work {
 public:
  MpiWork(MPI_Request request, at::Tensor tensor, double divisor, double timeout_s, std::string what)
      : request_(request), tensor_(std::move(tensor)), divisor_(divisor), timeout_s_(timeout_s),
        what_(std::move(what)) {}

  bool test() override {
    if (!done_) {
      int flag = 0;
      mpi_check(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE), "Test");
      if (flag) finish();
    }
    return done_;
  }

  void wait() override {
    if (done_) return;
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(timeout_s_));
    if (!poll_until(request_, deadline)) {
      throw CollectiveTimeout(fmt::format("{} did not complete within dist.timeout_s={:g} s", what_, timeout_s_));
    }
    finish();
  }

 private:
  void finish() {
    done_ = true;
    if (divisor_ != 1.0) tensor_.div_(divisor_);
  }

  MPI_Request request_;
  at::Tensor tensor_;
  double divisor_;
  double timeout_s_;
  std::string what_;
  bool done_ = false;
};

}  // namespace

MpiCommunicator::MpiCommunicator(double timeout_s, std::string host)
    : timeout_s_(timeout_s), host_(std::move(host)) {
  mpi_check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &size_);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

std::shared_ptr<Work> MpiCommunicator::allreduce_async(at::Tensor& tensor, ReduceOp op) {
  check_cpu_contiguous(tensor, "allreduce");
  MPI_Request request;
  mpi_check(MPI_Iallreduce(MPI_IN_PLACE, tensor.data_ptr(), static_cast<int>(tensor.numel()), mpi_type(tensor),
                           mpi_op(op), comm_, &request),
            "Iallreduce");
  const double divisor = op == ReduceOp::kAvg ? static_cast<double>(size_) : 1.0;
  return std::make_shared<MpiWork>(
      request, tensor, divisor, timeout_s_,
      fmt::format("all-reduce #{} ({} values) on rank {} ({})", ++sequence_, tensor.numel(), rank_, host_));
}

void MpiCommunicator::wait_for(MPI_Request& request, const char* what) {
  MpiWork work(request, at::Tensor(), 1.0, timeout_s_,
               fmt::format("{} #{} on rank {} ({})", what, ++sequence_, rank_, host_));
  work.wait();
}

void MpiCommunicator::broadcast(at::Tensor& tensor, int root) {
  check_cpu_contiguous(tensor, "broadcast");
  MPI_Request request;
  mpi_check(MPI_Ibcast(tensor.data_ptr(), static_cast<int>(tensor.numel()), mpi_type(tensor), root, comm_, &request),
            "Ibcast");
  wait_for(request, "broadcast");
}

at::Tensor MpiCommunicator::allgather(const at::Tensor& tensor) {
  check_cpu_contiguous(tensor, "allgather");
  auto shape = tensor.sizes().vec();
  if (shape.empty()) shape.push_back(1);
  shape[0] *= size_;
  auto out = at::empty(shape, tensor.options());
  MPI_Request request;
  mpi_check(MPI_Iallgather(tensor.data_ptr(), static_cast<int>(tensor.numel()), mpi_type(tensor), out.data_ptr(),
                           static_cast<int>(tensor.numel()), mpi_type(tensor), comm_, &request),
            "Iallgather");
  wait_for(request, "all-gather");
  return out;
}

void MpiCommunicator::barrier() {
  MPI_Request request;
  mpi_check(MPI_Ibarrier(comm_, &request), "Ibarrier");
  wait_for(request, "barrier");
}

}  // namespace medtrain::dist
