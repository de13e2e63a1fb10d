// CPU reference of the multi-tensor optimizer kernels: plain loops, the same
// rounding steps as the CUDA kernels and torch::optim (Note [Optimizer op order]
// in multi_tensor_optim.cu). std::fma stands where torch's vectorised add_ fuses.
#include <cmath>

#include "kernels/multi_tensor_optim.h"

namespace medtrain::kernels::ref {

void adamw_step(at::TensorList params, at::TensorList grads, at::TensorList exp_avgs,
                at::TensorList exp_avg_sqs, c10::ArrayRef<int64_t> steps,
                const AdamWStepOptions& o, const float* inv_scale) {
  const float beta1 = static_cast<float>(o.beta1), beta2 = static_cast<float>(o.beta2);
  const float omb1 = static_cast<float>(1 - o.beta1), omb2 = static_cast<float>(1 - o.beta2);
  const float eps = static_cast<float>(o.eps);
  const float decay = static_cast<float>(1 - o.lr * o.weight_decay);
  for (size_t t = 0; t < params.size(); ++t) {
    const double bc1 = 1 - std::pow(o.beta1, static_cast<double>(steps[t]));
    const double bc2 = 1 - std::pow(o.beta2, static_cast<double>(steps[t]));
    const float neg_step = static_cast<float>(-(o.lr / bc1));
    const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
    float* p = params[t].data_ptr<float>();
    const float* g = grads[t].data_ptr<float>();
    float* m = exp_avgs[t].data_ptr<float>();
    float* v = exp_avg_sqs[t].data_ptr<float>();
    for (int64_t i = 0, n = params[t].numel(); i < n; ++i) {
      float gi = inv_scale ? g[i] * *inv_scale : g[i];
      float pi = o.weight_decay != 0 ? p[i] * decay : p[i];
      m[i] = std::fma(gi, omb1, m[i] * beta1);
      const float sq = (omb2 * gi) * gi;
      v[i] = v[i] * beta2 + sq;
      const float denom = std::sqrt(v[i]) / bc2_sqrt + eps;
      p[i] = pi + (neg_step * m[i]) / denom;
    }
  }
}

void sgd_step(at::TensorList params, at::TensorList grads, at::TensorList momentum_buffers,
              c10::ArrayRef<uint8_t> first_step, const SgdStepOptions& o, const float* inv_scale) {
  const float mom = static_cast<float>(o.momentum);
  const float omd = static_cast<float>(1 - o.dampening);
  const float wd = static_cast<float>(o.weight_decay);
  const float neg_lr = static_cast<float>(-1 * o.lr);
  const bool has_momentum = o.momentum != 0;
  for (size_t t = 0; t < params.size(); ++t) {
    float* p = params[t].data_ptr<float>();
    const float* g = grads[t].data_ptr<float>();
    float* buf = has_momentum ? momentum_buffers[t].data_ptr<float>() : nullptr;
    const bool first = has_momentum && first_step[t] != 0;
    for (int64_t i = 0, n = params[t].numel(); i < n; ++i) {
      float d = inv_scale ? g[i] * *inv_scale : g[i];
      if (wd != 0.f) d = std::fma(p[i], wd, d);
      if (has_momentum) {
        buf[i] = first ? d : std::fma(d, omd, buf[i] * mom);
        d = o.nesterov ? std::fma(buf[i], mom, d) : buf[i];
      }
      p[i] = std::fma(d, neg_lr, p[i]);
    }
  }
}

bool unscale_check(at::TensorList grads, float inv_scale) {
  bool bad = false;
  for (const auto& t : grads) {
    float* g = t.data_ptr<float>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) {
      g[i] *= inv_scale;
      bad |= !std::isfinite(g[i]);
    }
  }
  return bad;
}

}  // namespace medtrain::kernels::ref
