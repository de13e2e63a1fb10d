#pragma once
// Our DDP. Gradients live as views into one flat buffer per bucket, so the
// all-reduce reads and writes them in place (nothing is copied twice). Each
// view has its parameter's strides (channels_last weights get channels_last
// gradients, which the optimizer then uses without a copy).
// A hook on each parameter's gradient accumulator counts ready gradients;
// when a bucket is complete it is launched, always in bucket order, so every
// rank issues the same collectives in the same sequence while the rest of
// backward still runs. finish() launches what is left, waits, and leaves every
// gradient equal to the mean over ranks. Non-final micro-steps of gradient
// accumulation call begin_backward(false): gradients accumulate locally,
// nothing is sent.
//
// Contract (checked; a breach is a ReducerMisuse naming the parameter, see
// reducer_errors.h): per step zero_grad(), then for each micro-step
// begin_backward(sync) and exactly one backward, then finish() once after the
// synced backward. Gradients stay the reducer's views (never set to none or
// reassigned) and parameters stay the tensors it was built with. A parameter
// without a gradient in the synced backward is a UserError unless
// find_unused_parameters (then it is reduced as its local gradient, zeros).
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

struct ReducerOptions {
  BucketLimits limits;
  // Parameters without a gradient are reduced as zeros instead of an error.
  bool find_unused_parameters = false;
  // All-reduce with kSum, then kernels::bucket_epilogue_ on each bucket: scale
  // by 1/(world * loss_scale) and raise found_inf(). The gradients leave
  // finish() unscaled (the GradScaler must not unscale them again).
  bool fused_epilogue = false;
  // false: every gradient view is contiguous, whatever the parameter's layout
  // (the old layout, kept for the benchmark that measures the difference).
  bool grads_follow_strides = true;
};

class GradientReducer {
 public:
  using NamedParams = std::vector<std::pair<std::string, at::Tensor>>;
  GradientReducer(NamedParams params, Communicator& comm, ReducerOptions options);
  ~GradientReducer();  // removes its hooks
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  void zero_grad();                  // zeros the bucket buffers (the gradients)
  void begin_backward(bool sync);    // before each micro-step's backward
  // After the final micro-step's backward. loss_scale: what the loss was
  // multiplied by (fp16 GradScaler); only the fused epilogue divides by it.
  void finish(double loss_scale = 1.0);
  // Throws ReducerMisuse when `current` (the model's trainable parameters now)
  // are not the tensors the reducer was built for, in the same layout.
  void check_parameters(const NamedParams& current) const;

  ReducerStats last_stats() const { return stats_; }
  size_t bucket_count() const { return buckets_.size(); }
  // Parameters whose gradient hook did not fire in the last synced backward.
  std::vector<std::string> unused_parameters() const;
  // Fused epilogue only: the gradients are unscaled, and found_inf() (1-element
  // fp32 on the gradients' device, cleared by begin_backward(true)) is nonzero
  // when any reduced gradient is inf or NaN.
  bool unscales_gradients() const { return options_.fused_epilogue; }
  const at::Tensor& found_inf() const { return found_inf_; }

 private:
  struct Bucket {
    std::vector<size_t> params;
    at::Tensor flat;
    size_t ready = 0;
    std::shared_ptr<Work> work;
  };
  void build_buckets();
  void on_gradient_ready(size_t param);
  void launch_ready_buckets(bool all);
  void check_gradient_is_view(size_t param) const;
  void check_before_reduce() const;
  void epilogue(Bucket& b, double loss_scale);

  NamedParams params_;
  std::vector<std::vector<int64_t>> built_strides_;
  Communicator& comm_;
  ReducerOptions options_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;
  std::vector<at::Tensor> views_;  // each parameter's gradient, as the reducer made it
  std::vector<bool> seen_;
  size_t seen_count_ = 0;
  at::Tensor found_inf_;
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> hooks_;
  std::mutex mutex_;
  bool sync_ = false;
  size_t next_launch_ = 0;
  std::chrono::steady_clock::time_point first_launch_;
  ReducerStats stats_;
};

}  // namespace medtrain::dist
