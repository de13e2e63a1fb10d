#include "trainer/dist/nccl_communicator.h"

#include <stdexcept>

#ifdef MEDTRAIN_WITH_CUDA
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAStream.h>
#include <fmt/format.h>
#include <mpi.h>
#include <nccl.h>

#include <chrono>
#include <thread>

#include "trainer/dist/mpi_check.h"
#endif

namespace medtrain::dist {

#ifdef MEDTRAIN_WITH_CUDA
namespace {

using Clock = std::chrono::steady_clock;

void nccl_check(ncclResult_t rc, const char* what) {
  if (rc != ncclSuccess && rc != ncclInProgress) {
    throw std::runtime_error(fmt::format("{} failed: {}", what, ncclGetErrorString(rc)));
  }
}

ncclDataType_t nccl_type(const at::Tensor& t) {
  switch (t.scalar_type()) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kLong: return ncclInt64;
    case at::kInt: return ncclInt32;
    case at::kByte: return ncclUint8;
    default:
      throw std::invalid_argument(fmt::format("nccl backend: dtype {} is not supported", c10::toString(t.scalar_type())));
  }
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kMax: return ncclMax;
    case ReduceOp::kAvg: return ncclAvg;  // averaging fused into the reduction
    default: return ncclSum;
  }
}

class NcclCommunicator;

class NcclWork : public Work {
 public:
  NcclWork(NcclCommunicator& comm, std::shared_ptr<at::cuda::CUDAEvent> done, std::string what)
      : comm_(comm), done_(std::move(done)), what_(std::move(what)) {}
  bool test() override { return done_->query(); }
  void wait() override;

 private:
  NcclCommunicator& comm_;
  std::shared_ptr<at::cuda::CUDAEvent> done_;
  std::string what_;
};

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(double timeout_s, std::string host)
      : timeout_s_(timeout_s), host_(std::move(host)),
        stream_(c10::cuda::getStreamFromPool(/*isHighPriority=*/true)) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    ncclUniqueId id;
    if (rank_ == 0) nccl_check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    mpi_check(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD), "Bcast(nccl id)");
    nccl_check(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
  }
  ~NcclCommunicator() override {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }

  std::shared_ptr<Work> allreduce_async(at::Tensor& t, ReduceOp op) override {
    check(t, "allreduce");
    auto done = enqueue(t, [&](cudaStream_t s) {
      return ncclAllReduce(t.data_ptr(), t.data_ptr(), t.numel(), nccl_type(t), nccl_op(op), comm_, s);
    });
    return std::make_shared<NcclWork>(*this, done, describe("all-reduce", t.numel()));
  }

  void broadcast(at::Tensor& t, int root) override {
    check(t, "broadcast");
    auto done = enqueue(t, [&](cudaStream_t s) {
      return ncclBroadcast(t.data_ptr(), t.data_ptr(), t.numel(), nccl_type(t), root, comm_, s);
    });
    NcclWork(*this, done, describe("broadcast", t.numel())).wait();
  }

  at::Tensor allgather(const at::Tensor& t) override {
    check(t, "allgather");
    auto shape = t.sizes().vec();
    if (shape.empty()) shape.push_back(1);
    shape[0] *= size_;
    auto out = at::empty(shape, t.options());
    auto done = enqueue(out, [&](cudaStream_t s) {
      return ncclAllGather(t.data_ptr(), out.data_ptr(), t.numel(), nccl_type(t), comm_, s);
    });
    NcclWork(*this, done, describe("all-gather", t.numel())).wait();
    return out;
  }

  void barrier() override {
    auto one = at::ones({1}, at::TensorOptions().device(at::kCUDA).dtype(at::kFloat));
    allreduce(one, ReduceOp::kSum);
  }

  // Host-side deadline: the event, then NCCL's own asynchronous error state.
  void wait_for(at::cuda::CUDAEvent& done, const std::string& what) {
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(timeout_s_));
    while (!done.query()) {
      ncclResult_t async = ncclSuccess;
      ncclCommGetAsyncError(comm_, &async);
      if (async != ncclSuccess && async != ncclInProgress) {
        ncclCommAbort(comm_);
        comm_ = nullptr;
        throw std::runtime_error(fmt::format("{}: NCCL reported {}", what, ncclGetErrorString(async)));
      }
      if (Clock::now() > deadline) {
        ncclCommAbort(comm_);
        comm_ = nullptr;
        throw CollectiveTimeout(fmt::format("{} did not complete within dist.timeout_s={:g} s", what, timeout_s_));
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    done.block(c10::cuda::getCurrentCUDAStream());
  }

 private:
  void check(const at::Tensor& t, const char* what) const {
    if (!t.is_cuda() || !t.is_contiguous()) {
      throw std::invalid_argument(fmt::format("nccl backend: {} needs a contiguous CUDA tensor", what));
    }
    if (comm_ == nullptr) throw std::runtime_error("nccl backend: communicator was aborted after an earlier failure");
  }

  template <typename Launch>
  std::shared_ptr<at::cuda::CUDAEvent> enqueue(const at::Tensor& t, Launch launch) {
    at::cuda::CUDAEvent ready;
    ready.record(c10::cuda::getCurrentCUDAStream());
    ready.block(stream_);
    nccl_check(launch(stream_.stream()), "nccl collective");
    // The tensor is used on our stream: keep the allocator from reusing it early.
    c10::cuda::CUDACachingAllocator::recordStream(t.storage().data_ptr(), stream_);
    auto done = std::make_shared<at::cuda::CUDAEvent>();
    done->record(stream_);
    return done;
  }

  std::string describe(const char* op, int64_t numel) {
    return fmt::format("{} #{} ({} values) on rank {} ({})", op, ++sequence_, numel, rank_, host_);
  }

  double timeout_s_;
  std::string host_;
  c10::cuda::CUDAStream stream_;
  ncclComm_t comm_ = nullptr;
  int rank_ = 0;
  int size_ = 1;
  int64_t sequence_ = 0;
};

void NcclWork::wait() { comm_.wait_for(*done_, what_); }

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(double timeout_s, const std::string& host) {
  return std::make_unique<NcclCommunicator>(timeout_s, host);
}

#else

std::unique_ptr<Communicator> make_nccl_communicator(double, const std::string&) {
  throw std::runtime_error("dist.backend=nccl: this medtrain was built without CUDA (MEDTRAIN_CUDA=OFF)");
}

#endif

}  // namespace medtrain::dist
