#include "models/sync_batch_norm.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

namespace medtrain::models {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Per-channel sums over N, H, W, accumulated in float64 without a float64 copy
// of the activations.
at::Tensor channel_sum(const at::Tensor& t) { return t.sum({0, 2, 3}, false, at::kDouble); }

// Sum of squares with the squares themselves formed in float64: the variance
// is E[x^2] - E[x]^2, which loses every digit float squares carry when a
// channel's mean is large against its spread.
at::Tensor channel_sum_of_squares(const at::Tensor& t) {
  return at::linalg_vector_norm(t, 2, at::IntArrayRef{0, 2, 3}, false, at::kDouble).square();
}

at::Tensor per_channel(const at::Tensor& v, const at::Tensor& like) {
  return v.to(like.scalar_type()).view({1, -1, 1, 1});
}

struct SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
  // Returns y; running statistics are updated by the caller from ctx outputs.
  static at::Tensor forward(AutogradContext* ctx, at::Tensor x, at::Tensor weight, at::Tensor bias, double eps,
                            CrossRankSum* sum, at::Tensor mean_var_out) {
    const int64_t channels = x.size(1);
    auto stats = at::cat({channel_sum(x), channel_sum_of_squares(x),
                          at::full({1}, static_cast<double>(x.numel() / channels), at::kDouble)});
    (*sum)(stats);
    const double count = stats[2 * channels].item<double>();
    auto mean = stats.narrow(0, 0, channels) / count;
    auto var = (stats.narrow(0, channels, channels) / count - mean * mean).clamp_min(0);
    auto invstd = (var + eps).rsqrt();
    mean_var_out.copy_(at::stack({mean, var * (count / std::max(count - 1, 1.0))}));
    auto xhat = (x - per_channel(mean, x)) * per_channel(invstd, x);
    ctx->save_for_backward({xhat, weight, invstd});
    ctx->saved_data["count"] = count;
    ctx->saved_data["sum"] = reinterpret_cast<int64_t>(sum);
    return xhat * weight.view({1, -1, 1, 1}) + bias.view({1, -1, 1, 1});
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto xhat = saved[0], weight = saved[1], invstd = saved[2];
    auto dy = grads[0];
    const int64_t channels = xhat.size(1);
    auto* sum = reinterpret_cast<CrossRankSum*>(ctx->saved_data["sum"].toInt());
    const double count = ctx->saved_data["count"].toDouble();
    auto local_dy = channel_sum(dy), local_dy_xhat = channel_sum(dy * xhat);
    // Weight and bias gradients stay local: the gradient reducer averages them.
    auto grad_weight = local_dy_xhat.to(weight.scalar_type());
    auto grad_bias = local_dy.to(weight.scalar_type());
    auto global = at::cat({local_dy, local_dy_xhat});
    (*sum)(global);
    auto mean_dy = global.narrow(0, 0, channels) / count;
    auto mean_dy_xhat = global.narrow(0, channels, channels) / count;
    auto dx = (dy - per_channel(mean_dy, dy) - xhat * per_channel(mean_dy_xhat, dy)) *
              per_channel(invstd * weight.to(at::kDouble), dy);
    return {dx, grad_weight, grad_bias, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

torch::Tensor SyncBatchNorm2dImpl::forward(const torch::Tensor& input) {
  if (!sum_ || !is_training()) return torch::nn::BatchNorm2dImpl::forward(input);
  TORCH_CHECK(options.affine() && options.track_running_stats(),
              "SyncBatchNorm2d needs affine=true and track_running_stats=true");
  auto mean_var = at::empty({2, input.size(1)}, input.options().dtype(at::kDouble));
  auto y = SyncBatchNormFunction::apply(input, weight, bias, options.eps(), sum_.get(), mean_var);
  {
    torch::NoGradGuard no_grad;
    const double m = options.momentum().value_or(0.1);
    running_mean.mul_(1 - m).add_(mean_var[0].to(running_mean.scalar_type()), m);
    running_var.mul_(1 - m).add_(mean_var[1].to(running_var.scalar_type()), m);
    num_batches_tracked.add_(1);
  }
  return y;
}

int enable_sync_batch_norm(torch::nn::Module& model, CrossRankSum sum) {
  auto shared = std::make_shared<CrossRankSum>(std::move(sum));
  int found = 0;
  for (auto& m : model.modules(/*include_self=*/true)) {
    if (auto* bn = dynamic_cast<SyncBatchNorm2dImpl*>(m.get())) {
      bn->set_cross_rank_sum(shared);
      ++found;
    }
  }
  return found;
}

}  // namespace medtrain::models
