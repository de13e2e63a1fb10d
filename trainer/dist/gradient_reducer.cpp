#include "trainer/dist/gradient_reducer.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <functional>

namespace medtrain::dist {

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Runs after the parameter's AccumulateGrad node, i.e. once its gradient for
// this backward is complete.
class ReadyHook : public torch::autograd::FunctionPostHook {
 public:
  explicit ReadyHook(std::function<void()> fn) : fn_(std::move(fn)) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    fn_();
    return outputs;
  }

 private:
  std::function<void()> fn_;
};

std::vector<ParamSlot> slots_of(const GradientReducer::NamedParams& params) {
  std::vector<ParamSlot> slots;
  for (const auto& [name, p] : params) {
    slots.push_back({p.numel(), static_cast<size_t>(p.element_size()),
                     std::string(c10::toString(p.scalar_type())) + p.device().str()});
  }
  return slots;
}

}  // namespace

GradientReducer::GradientReducer(NamedParams params, Communicator& comm, BucketLimits limits)
    : params_(std::move(params)), comm_(comm), bucket_of_(params_.size()), seen_(params_.size(), false) {
  for (auto& indices : plan_buckets(slots_of(params_), limits)) {
    Bucket b;
    int64_t total = 0;
    for (size_t i : indices) total += params_[i].second.numel();
    b.flat = at::zeros({total}, params_[indices.front()].second.options().requires_grad(false));
    int64_t offset = 0;
    for (size_t i : indices) {
      auto& p = params_[i].second;
      // The gradient is a view into the bucket: autograd accumulates into it in
      // place, and the all-reduce result lands where the optimizer reads it.
      p.mutable_grad() = b.flat.narrow(0, offset, p.numel()).view(p.sizes());
      offset += p.numel();
      bucket_of_[i] = buckets_.size();
    }
    b.params = std::move(indices);
    buckets_.push_back(std::move(b));
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    auto acc = torch::autograd::impl::grad_accumulator(params_[i].second);
    const auto key = acc->add_post_hook(std::make_unique<ReadyHook>([this, i] { on_gradient_ready(i); }));
    hooks_.emplace_back(std::move(acc), key);
  }
}

GradientReducer::~GradientReducer() {
  for (auto& [node, key] : hooks_) node->del_post_hook(key);
}

void GradientReducer::zero_grad() {
  for (auto& b : buckets_) b.flat.zero_();
}

void GradientReducer::begin_backward(bool sync) {
  std::lock_guard<std::mutex> lock(mutex_);
  sync_ = sync;
  next_launch_ = 0;
  for (auto& b : buckets_) {
    b.ready = 0;
    b.work.reset();
  }
  std::fill(seen_.begin(), seen_.end(), false);
}

void GradientReducer::on_gradient_ready(size_t param) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sync_ || seen_[param]) return;
  seen_[param] = true;
  ++buckets_[bucket_of_[param]].ready;
  launch_ready_buckets(/*all=*/false);
  // Open MPI moves non-blocking collectives along only inside MPI calls.
  for (size_t b = 0; b < next_launch_; ++b) buckets_[b].work->test();
}

void GradientReducer::launch_ready_buckets(bool all) {
  while (next_launch_ < buckets_.size()) {
    auto& b = buckets_[next_launch_];
    if (!all && b.ready < b.params.size()) break;
    if (next_launch_ == 0) first_launch_ = Clock::now();
    b.work = comm_.allreduce_async(b.flat, ReduceOp::kAvg);
    ++next_launch_;
  }
}

void GradientReducer::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sync_) return;
  const auto start = Clock::now();
  launch_ready_buckets(/*all=*/true);
  for (auto& b : buckets_) b.work->wait();
  const auto end = Clock::now();
  stats_ = {first_launch_, end, seconds(end - start), static_cast<int64_t>(buckets_.size())};
  sync_ = false;
}

std::vector<std::string> GradientReducer::unused_parameters() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!seen_[i]) names.push_back(params_[i].first);
  }
  return names;
}

}  // namespace medtrain::dist
