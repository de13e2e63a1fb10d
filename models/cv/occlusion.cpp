// Occlusion sensitivity as monai.visualize.OcclusionSensitivity (MONAI
// 1.6.1, no bounding box): patches of mask_size slide over the image as
// sliding_window_inference's windows do (same starts, same blending), each
// window's occluded copy gives class probabilities, and every pixel gets the
// blend-weighted mean of the probabilities of the windows covering it.
#include "models/cv/saliency.h"

#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "models/cv/saliency_common.h"
#include "models/cv/window_geometry.h"

namespace medtrain::models::cv {

namespace {

using Window = std::vector<int64_t>;  // start per spatial dimension

// All windows, the last dimension fastest (numpy meshgrid "ij", flattened).
std::vector<Window> windows(const torch::Tensor& x, const OcclusionOptions& o) {
  std::vector<Window> all{{}};
  for (int64_t d = 2; d < x.dim(); ++d) {
    std::vector<Window> next;
    for (const auto& w : all) {
      for (int64_t s : window_starts(x.size(d), o.mask_size, o.overlap)) {
        next.push_back(w);
        next.back().push_back(s);
      }
    }
    all = std::move(next);
  }
  return all;
}

// t[..., window] for t [B, C, *spatial]: a view.
torch::Tensor region(const torch::Tensor& t, const Window& w, int64_t mask) {
  torch::Tensor r = t;
  for (size_t d = 0; d < w.size(); ++d) r = r.slice(static_cast<int64_t>(d) + 2, w[d], w[d] + mask);
  return r;
}

// The product over dimensions of a 1-D profile [mask] (float32, as MONAI).
torch::Tensor outer(const torch::Tensor& profile, int64_t dims) {
  torch::Tensor m = profile;
  for (int64_t i = 1; i < dims; ++i) m = m.unsqueeze(-1) * profile;
  return m;
}

// gaussian_occlusion's multiplier: a unit impulse at the patch centre smoothed
// by GaussianFilter (erf kernel, sigma 0.25 * mask, 4 sigma tail), negated and
// scaled to [0, 1]: 0 at the centre, 1 at the far corners.
torch::Tensor gaussian_multiplier(int64_t mask, int64_t dims) {
  const double sigma = 0.25 * static_cast<double>(mask);
  const int64_t tail = static_cast<int64_t>(std::max(sigma * 4.0, 0.5) + 0.5);
  const torch::Tensor k = torch::arange(-tail, tail + 1, torch::kFloat);
  const double t = 0.70710678 / sigma;
  const torch::Tensor kernel = (0.5 * (torch::erf(t * (k + 0.5)) - torch::erf(t * (k - 0.5)))).clamp_min(0);
  const torch::Tensor v = outer(kernel.slice(0, tail - mask / 2, tail - mask / 2 + mask), dims);
  const torch::Tensor lo = v.min(), range = v.max() - lo;
  if (range.item<double>() == 0) return torch::zeros_like(v);
  return (v.max() - v) / range;
}

void check_options(const torch::Tensor& x, const OcclusionOptions& o) {
  if (o.mask_size < 1) throw std::invalid_argument("occlusion: mask_size must be >= 1, got " + std::to_string(o.mask_size));
  if (!(o.overlap >= 0.0 && o.overlap < 1.0)) {
    throw std::invalid_argument("occlusion: overlap must be in [0, 1), got " + std::to_string(o.overlap));
  }
  if (o.n_batch < 1) throw std::invalid_argument("occlusion: n_batch must be >= 1, got " + std::to_string(o.n_batch));
  for (int64_t d = 2; d < x.dim(); ++d) {
    if (x.size(d) < o.mask_size) {
      std::ostringstream s;
      s << "occlusion: mask_size " << o.mask_size << " is larger than the image " << x.sizes().slice(2);
      throw std::invalid_argument(s.str());
    }
  }
}

// Softmax over the classes; sigmoid for a single logit. (MONAI chooses by the
// number of input channels, which reads as a slip for the number of outputs.)
torch::Tensor probabilities(const torch::Tensor& logits) {
  if (logits.dim() != 2) {
    std::ostringstream s;
    s << "occlusion: the model gives " << logits.sizes() << ", not class logits [N, classes]";
    throw std::invalid_argument(s.str());
  }
  return logits.size(1) == 1 ? logits.sigmoid() : logits.softmax(1);
}

// Copies of x, each with one window hidden as `mode` says.
torch::Tensor occluded(const torch::Tensor& x, const std::vector<Window>& batch, const OcclusionOptions& o,
                       const torch::Tensor& multiplier, double image_mean) {
  std::vector<int64_t> reps(x.dim(), 1);
  reps[0] = static_cast<int64_t>(batch.size());
  torch::Tensor im = x.repeat(reps);
  for (int64_t b = 0; b < reps[0]; ++b) {
    torch::Tensor r = region(im.slice(0, b, b + 1), batch[static_cast<size_t>(b)], o.mask_size);
    if (o.mode == OcclusionMode::gaussian) {
      r.mul_(multiplier);
    } else {
      r.fill_(o.mode == OcclusionMode::mean_img ? image_mean : r.mean().item<double>());
    }
  }
  return im;
}

}  // namespace

OcclusionMode occlusion_mode(const std::string& name) {
  if (name == "gaussian") return OcclusionMode::gaussian;
  if (name == "mean_img") return OcclusionMode::mean_img;
  if (name == "mean_patch") return OcclusionMode::mean_patch;
  throw std::invalid_argument("occlusion: unknown mode '" + name + "' (gaussian, mean_img, mean_patch)");
}

torch::Tensor occlusion_probabilities(ImageModel& model, const torch::Tensor& x, const OcclusionOptions& options) {
  check_saliency_input("occlusion", x);
  if (x.size(0) != 1) throw std::invalid_argument("occlusion: one image at a time, got a batch of " + std::to_string(x.size(0)));
  check_options(x, options);
  EvalModeGuard eval(model);
  torch::NoGradGuard no_grad;
  const int64_t dims = x.dim() - 2;
  const auto opts = x.options();
  // sliding_window_inference's blending: ones, or a Gaussian of sigma 0.125 * mask.
  const torch::Tensor weights =
      importance_map(std::vector<int64_t>(dims, options.mask_size), options.mode == OcclusionMode::gaussian, 0.125)
          .to(opts);
  const torch::Tensor multiplier = gaussian_multiplier(options.mask_size, dims).to(opts);
  const double image_mean = x.mean().item<double>();
  const std::vector<Window> all = windows(x, options);
  std::vector<int64_t> count_shape(x.sizes().begin(), x.sizes().end());
  count_shape[1] = 1;
  torch::Tensor count = torch::zeros(count_shape, opts);
  torch::Tensor sum;
  for (size_t first = 0; first < all.size(); first += options.n_batch) {
    const std::vector<Window> batch(all.begin() + first,
                                    all.begin() + std::min(all.size(), first + static_cast<size_t>(options.n_batch)));
    const torch::Tensor p = probabilities(model.forward(occluded(x, batch, options, multiplier, image_mean)));
    if (!sum.defined()) {
      std::vector<int64_t> shape = count_shape;
      shape[1] = p.size(1);
      sum = torch::zeros(shape, opts);
    }
    std::vector<int64_t> per_class(x.dim(), 1);
    per_class[1] = p.size(1);
    for (int64_t b = 0; b < p.size(0); ++b) {
      const Window& w = batch[static_cast<size_t>(b)];
      region(sum, w, options.mask_size).add_(p[b].view(per_class) * weights);
      region(count, w, options.mask_size).add_(weights);
    }
  }
  return sum / count;
}

torch::Tensor occlusion(ImageModel& model, const torch::Tensor& x, std::optional<int64_t> class_index,
                        const OcclusionOptions& options) {
  check_saliency_input("occlusion", x);
  check_options(x, options);
  torch::Tensor classes;
  {
    EvalModeGuard eval(model);
    torch::NoGradGuard no_grad;
    classes = target_classes("occlusion", model.forward(x), class_index);
  }
  std::vector<torch::Tensor> maps;
  for (int64_t i = 0; i < x.size(0); ++i) {
    const torch::Tensor p = occlusion_probabilities(model, x.slice(0, i, i + 1), options);
    maps.push_back(-p.slice(1, classes[i].item<int64_t>(), classes[i].item<int64_t>() + 1));
  }
  return scale_per_sample(torch::cat(maps));
}

}  // namespace medtrain::models::cv
