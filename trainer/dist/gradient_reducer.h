#pragma once
// Our DDP. Gradients live as views into one flat buffer per bucket, so the
// all-reduce reads and writes them in place (nothing is copied twice).
// A hook on each parameter's gradient accumulator counts ready gradients;
// when a bucket is complete it is launched, always in bucket order, so every
// rank issues the same collectives in the same sequence while the rest of
// backward still runs. finish() launches what is left (parameters that got no
// gradient this step contribute zeros), waits, and leaves every gradient equal
// to the mean over ranks. Non-final micro-steps of gradient accumulation call
// begin_backward(false): gradients accumulate locally, nothing is sent.
#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "trainer/dist/bucket_plan.h"
#include "trainer/dist/communicator.h"

namespace torch::autograd {
struct Node;
}

namespace medtrain::dist {

struct ReducerStats {
  std::chrono::steady_clock::time_point first_launch, all_done;
  double comm_wait_s = 0;   // time finish() blocked: the part not hidden behind backward
  int64_t buckets = 0;
  double span_s() const { return std::chrono::duration<double>(all_done - first_launch).count(); }
};

class GradientReducer {
 public:
  using NamedParams = std::vector<std::pair<std::string, at::Tensor>>;
  GradientReducer(NamedParams params, Communicator& comm, BucketLimits limits);
  ~GradientReducer();  // removes its hooks
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  void zero_grad();                  // zeros the bucket buffers (the gradients)
  void begin_backward(bool sync);    // before each micro-step's backward
  void finish();                     // after the final micro-step's backward
  ReducerStats last_stats() const { return stats_; }
  size_t bucket_count() const { return buckets_.size(); }
  // Parameters whose gradient hook did not fire in the last synced backward.
  std::vector<std::string> unused_parameters() const;

 private:
  struct Bucket {
    std::vector<size_t> params;
    at::Tensor flat;
    size_t ready = 0;
    std::shared_ptr<Work> work;
  };
  void on_gradient_ready(size_t param);
  void launch_ready_buckets(bool all);

  NamedParams params_;
  Communicator& comm_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;
  std::vector<bool> seen_;
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> hooks_;
  std::mutex mutex_;
  bool sync_ = false;
  size_t next_launch_ = 0;
  std::chrono::steady_clock::time_point first_launch_;
  ReducerStats stats_;
};

}  // namespace medtrain::dist
