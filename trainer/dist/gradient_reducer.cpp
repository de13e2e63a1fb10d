#include "trainer/dist/gradient_reducer.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <functional>
#include <unordered_set>

#include "kernels/bucket_epilogue.h"
#include "trainer/dist/reducer_errors.h"
#include "trainer/user_error.h"

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

// A tensor registered under two names (shared weights) is reduced once, under
// its first name: it has one gradient and one accumulator.
GradientReducer::NamedParams unique_by_tensor(GradientReducer::NamedParams params) {
  GradientReducer::NamedParams out;
  std::unordered_set<const void*> seen;
  for (auto& item : params) {
    if (seen.insert(item.second.unsafeGetTensorImpl()).second) out.push_back(std::move(item));
  }
  return out;
}

std::vector<ParamSlot> slots_of(const GradientReducer::NamedParams& params) {
  std::vector<ParamSlot> slots;
  for (const auto& [name, p] : params) {
    slots.push_back({p.numel(), static_cast<size_t>(p.element_size()),
                     std::string(c10::toString(p.scalar_type())) + p.device().str()});
  }
  return slots;
}

// The gradient's place in the bucket: `p.numel()` values from `offset`, in the
// parameter's own memory order when it has one (a dense layout, e.g.
// channels_last), so that autograd, the all-reduce and the optimizer all see
// the parameter's strides and nobody copies.
at::Tensor gradient_view(const at::Tensor& flat, int64_t offset, const at::Tensor& p, bool follow_strides) {
  if (follow_strides && p.is_non_overlapping_and_dense()) {
    return flat.as_strided(p.sizes(), p.strides(), flat.storage_offset() + offset);
  }
  return flat.narrow(0, offset, p.numel()).view(p.sizes());
}

}  // namespace

GradientReducer::GradientReducer(NamedParams params, Communicator& comm, ReducerOptions options)
    : params_(unique_by_tensor(std::move(params))),
      comm_(comm),
      options_(options),
      bucket_of_(params_.size()),
      views_(params_.size()),
      seen_(params_.size(), false) {
  for (const auto& item : params_) built_strides_.push_back(item.second.strides().vec());
  build_buckets();
  if (!params_.empty()) found_inf_ = at::zeros({1}, params_.front().second.options().dtype(at::kFloat));
  for (size_t i = 0; i < params_.size(); ++i) {
    auto acc = torch::autograd::impl::grad_accumulator(params_[i].second);
    const auto key = acc->add_post_hook(std::make_unique<ReadyHook>([this, i] { on_gradient_ready(i); }));
    hooks_.emplace_back(std::move(acc), key);
  }
}

GradientReducer::~GradientReducer() {
  for (auto& [node, key] : hooks_) node->del_post_hook(key);
}

void GradientReducer::build_buckets() {
  for (auto& indices : plan_buckets(slots_of(params_), options_.limits)) {
    Bucket b;
    int64_t total = 0;
    for (size_t i : indices) total += params_[i].second.numel();
    b.flat = at::zeros({total}, params_[indices.front()].second.options().requires_grad(false));
    int64_t offset = 0;
    for (size_t i : indices) {
      auto& p = params_[i].second;
      // The gradient is a view into the bucket: autograd accumulates into it in
      // place, and the all-reduce result lands where the optimizer reads it.
      views_[i] = gradient_view(b.flat, offset, p, options_.grads_follow_strides);
      p.mutable_grad() = views_[i];
      offset += p.numel();
      bucket_of_[i] = buckets_.size();
    }
    b.params = std::move(indices);
    buckets_.push_back(std::move(b));
  }
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
  seen_count_ = 0;
  if (sync && options_.fused_epilogue && found_inf_.defined()) found_inf_.zero_();
}

void GradientReducer::on_gradient_ready(size_t param) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!sync_) return;
  // Thrown inside backward, like c10d: the caller sees it at the backward() that misbehaved.
  if (seen_[param]) throw ReducerMisuse(reducer_errors::ready_twice(params_[param].first));
  check_gradient_is_view(param);
  seen_[param] = true;
  ++seen_count_;
  ++buckets_[bucket_of_[param]].ready;
  launch_ready_buckets(/*all=*/false);
  // Open MPI moves non-blocking collectives along only inside MPI calls.
  for (size_t b = 0; b < next_launch_; ++b) buckets_[b].work->test();
}

void GradientReducer::check_gradient_is_view(size_t param) const {
  const auto& g = params_[param].second.grad();
  const auto& view = views_[param];
  if (!g.defined()) {
    throw ReducerMisuse(reducer_errors::gradient_replaced(params_[param].first, bucket_of_[param], "undefined"));
  }
  if (g.data_ptr() != view.data_ptr() || g.sizes() != view.sizes() || g.strides() != view.strides()) {
    throw ReducerMisuse(
        reducer_errors::gradient_replaced(params_[param].first, bucket_of_[param], "another tensor"));
  }
}

void GradientReducer::launch_ready_buckets(bool all) {
  const auto op = options_.fused_epilogue ? ReduceOp::kSum : ReduceOp::kAvg;
  while (next_launch_ < buckets_.size()) {
    auto& b = buckets_[next_launch_];
    if (!all && b.ready < b.params.size()) break;
    if (next_launch_ == 0) first_launch_ = Clock::now();
    b.work = comm_.allreduce_async(b.flat, op);
    ++next_launch_;
  }
}

// Before anything more is sent: every rank runs the same checks on the same
// model, so all of them stop here together.
void GradientReducer::check_before_reduce() const {
  if (!sync_) throw ReducerMisuse(reducer_errors::finish_without_sync());
  if (seen_count_ == 0 && !params_.empty()) throw ReducerMisuse(reducer_errors::finish_without_gradients());
  for (size_t i = 0; i < params_.size(); ++i) check_gradient_is_view(i);
  if (!options_.find_unused_parameters) {
    const auto unused = unused_parameters();
    if (!unused.empty()) throw UserError(reducer_errors::unused_parameters(unused));
  }
}

void GradientReducer::finish(double loss_scale) {
  std::lock_guard<std::mutex> lock(mutex_);
  check_before_reduce();
  const auto start = Clock::now();
  launch_ready_buckets(/*all=*/true);
  for (auto& b : buckets_) {
    b.work->wait();
    if (options_.fused_epilogue) epilogue(b, loss_scale);
  }
  const auto end = Clock::now();
  stats_ = {first_launch_, end, seconds(end - start), static_cast<int64_t>(buckets_.size())};
  sync_ = false;
}

// After wait(): the bucket holds the sum over ranks, and (CUDA) the current
// stream is ordered after the collective, so the epilogue queued on it reads
// the reduced values.
void GradientReducer::epilogue(Bucket& b, double loss_scale) {
  const double factor = 1.0 / (static_cast<double>(comm_.size()) * loss_scale);
  if (b.flat.scalar_type() == at::kFloat) {
    kernels::bucket_epilogue_(b.flat, factor, found_inf_);
    return;
  }
  // The kernel is fp32-only; other dtypes take the same two steps in ATen (still sync-free).
  b.flat.mul_(factor);
  found_inf_.masked_fill_(b.flat.isfinite().all().logical_not(), 1.0);
}

void GradientReducer::check_parameters(const NamedParams& current) const {
  const auto now = unique_by_tensor(current);
  if (now.size() != params_.size()) {
    throw ReducerMisuse(reducer_errors::parameter_count_changed(params_.size(), now.size()));
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto& [name, built] = params_[i];
    const auto& p = now[i].second;
    if (now[i].first != name) {
      throw ReducerMisuse(reducer_errors::parameter_replaced(name, "its place is now held by '" + now[i].first + "'"));
    }
    if (p.unsafeGetTensorImpl() != built.unsafeGetTensorImpl()) {
      throw ReducerMisuse(reducer_errors::parameter_replaced(name, "another tensor was put in its place"));
    }
    if (p.sizes() != views_[i].sizes() || p.strides() != c10::IntArrayRef(built_strides_[i]) ||
        p.scalar_type() != views_[i].scalar_type() || p.device() != views_[i].device()) {
      throw ReducerMisuse(reducer_errors::parameter_replaced(name, "set_data changed its shape, layout, dtype or device"));
    }
  }
}

std::vector<std::string> GradientReducer::unused_parameters() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!seen_[i]) names.push_back(params_[i].first);
  }
  return names;
}

}  // namespace medtrain::dist
