#include "trainer/export/sliding_window.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/cv/window_geometry.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

void check(bool ok, const std::string& why) {
  if (!ok) throw std::invalid_argument("sliding window: " + why);
}

void check_options(const SlidingWindowOptions& o) {
  for (const int64_t r : o.roi) check(r >= 1, "every ROI side must be >= 1");
  check(o.overlap >= 0 && o.overlap < 1, "overlap must be in [0, 1), got " + std::to_string(o.overlap));
  check(o.sw_batch >= 1, "the window batch must be >= 1");
  check(o.mode == BlendMode::kConstant || o.sigma_scale > 0, "sigma_scale must be > 0");
}

struct Window {
  int64_t z, y, x;
};

// Note [Streamed accumulation]
// MONAI sums weighted window outputs into a [N, K, D, H, W] buffer and the
// weights into a [1, 1, D, H, W] count map, then divides. Windows come in
// depth-major order, so when a window starting at depth z arrives, every slice
// before z has all its contributions. The accumulator therefore holds only
// the ROI depth starting at the current windows' depth `base_`: moving on to
// a later start emits the finished slices [base_, z) (divided by their
// counts, in the same order of additions as MONAI's, hence the same floats)
// and carries the still-open slices to the front.
class Accumulator {
 public:
  Accumulator(int64_t image, int64_t classes, const std::array<int64_t, 3>& padded, const std::array<int64_t, 3>& pad,
              const std::array<int64_t, 3>& size, const at::Tensor& weight, const SlabSink& sink)
      : image_(image), pad_(pad), size_(size), weight_(weight), sink_(sink) {
    const int64_t rd = weight.size(2);
    sum_ = at::zeros({1, classes, rd, padded[1], padded[2]}, weight.options());
    count_ = at::zeros({1, 1, rd, padded[1], padded[2]}, weight.options());
  }

  // out: [1, K, rd, rh, rw], the prediction for window w.
  void add(const Window& w, const at::Tensor& out) {
    if (w.z > base_) advance(w.z);
    const int64_t rh = weight_.size(3), rw = weight_.size(4);
    sum_.narrow(3, w.y, rh).narrow(4, w.x, rw).add_(out * weight_);
    count_.narrow(3, w.y, rh).narrow(4, w.x, rw).add_(weight_);
  }

  // Emits what is left: the last windows end at the padded volume's last slice.
  void finish() { emit(sum_.size(2)); }

 private:
  void advance(int64_t z) {
    const int64_t rd = sum_.size(2), done = std::min(z - base_, rd);
    emit(done);
    const int64_t keep = rd - done;
    if (keep > 0) {
      sum_.narrow(2, 0, keep).copy_(sum_.narrow(2, done, keep).clone());
      count_.narrow(2, 0, keep).copy_(count_.narrow(2, done, keep).clone());
    }
    sum_.narrow(2, keep, rd - keep).zero_();
    count_.narrow(2, keep, rd - keep).zero_();
    base_ = z;
  }

  // Slices [base_, base_ + n) of the padded grid, cropped to the input's.
  void emit(int64_t n) {
    const int64_t lo = std::max(base_, pad_[0]), hi = std::min(base_ + n, pad_[0] + size_[0]);
    if (hi <= lo) return;
    const at::Tensor s = sum_.narrow(2, lo - base_, hi - lo), c = count_.narrow(2, lo - base_, hi - lo);
    const at::Tensor slab = (s / c).narrow(3, pad_[1], size_[1]).narrow(4, pad_[2], size_[2]);
    sink_(image_, lo - pad_[0], slab);
  }

  int64_t image_;
  std::array<int64_t, 3> pad_, size_;
  at::Tensor weight_;  // [1, 1, rd, rh, rw]
  const SlabSink& sink_;
  at::Tensor sum_, count_;
  int64_t base_ = 0;
};

// One image [1, C, Dp, Hp, Wp] (already padded to at least the ROI).
void run_image(int64_t image, const at::Tensor& x, const WindowPredictor& predictor, const SlidingWindowOptions& o,
               const std::array<int64_t, 3>& pad, const std::array<int64_t, 3>& size, const at::Tensor& weight,
               const SlabSink& sink) {
  const auto& roi = o.roi;
  const auto zs = models::cv::window_starts(x.size(2), roi[0], o.overlap);
  const auto ys = models::cv::window_starts(x.size(3), roi[1], o.overlap);
  const auto xs = models::cv::window_starts(x.size(4), roi[2], o.overlap);
  std::vector<Window> windows;
  for (int64_t z : zs) {
    for (int64_t y : ys) {
      for (int64_t xx : xs) windows.push_back({z, y, xx});
    }
  }
  std::unique_ptr<Accumulator> acc;
  for (size_t first = 0; first < windows.size(); first += static_cast<size_t>(o.sw_batch)) {
    const size_t last = std::min(windows.size(), first + static_cast<size_t>(o.sw_batch));
    std::vector<at::Tensor> batch;
    for (size_t i = first; i < last; ++i) {
      const Window& w = windows[i];
      batch.push_back(x.narrow(2, w.z, roi[0]).narrow(3, w.y, roi[1]).narrow(4, w.x, roi[2]));
    }
    const at::Tensor out = predictor(batch.size() == 1 ? batch[0] : at::cat(batch));
    check(out.dim() == 5 && out.size(0) == static_cast<int64_t>(batch.size()) && out.size(2) == roi[0] &&
              out.size(3) == roi[1] && out.size(4) == roi[2],
          "the model must return [B, K, ROI] for a window batch; got " + std::to_string(out.dim()) +
              " dims, first " + std::to_string(out.size(0)));
    if (!acc) {
      acc = std::make_unique<Accumulator>(image, out.size(1), std::array<int64_t, 3>{x.size(2), x.size(3), x.size(4)},
                                          pad, size, weight.to(out.device(), out.scalar_type()), sink);
    }
    for (size_t i = first; i < last; ++i) acc->add(windows[i], out.narrow(0, static_cast<int64_t>(i - first), 1));
    if (o.on_windows) o.on_windows(static_cast<int64_t>(last), static_cast<int64_t>(windows.size()));
  }
  acc->finish();
}

}  // namespace

BlendMode blend_mode_from(const std::string& name, const std::string& flag) {
  if (name == "constant") return BlendMode::kConstant;
  if (name == "gaussian") return BlendMode::kGaussian;
  throw UserError(flag + ": expected constant or gaussian, got \"" + name + "\"");
}

void sliding_window_slabs(const at::Tensor& input, const WindowPredictor& predictor, const SlidingWindowOptions& o,
                          const SlabSink& sink) {
  check_options(o);
  check(input.dim() == 5, "expected [N, C, D, H, W], got " + std::to_string(input.dim()) + " dims");
  std::array<int64_t, 3> size{input.size(2), input.size(3), input.size(4)}, pad{};
  std::vector<int64_t> pads;  // constant_pad_nd order: last axis first
  for (int k = 2; k >= 0; --k) {
    const int64_t diff = std::max<int64_t>(o.roi[k] - size[k], 0);
    pad[k] = diff / 2;
    pads.push_back(diff / 2);
    pads.push_back(diff - diff / 2);
  }
  const bool padded = std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p > 0; });
  const at::Tensor x = padded ? at::constant_pad_nd(input, pads, o.cval) : input;
  const at::Tensor weight =
      models::cv::importance_map({o.roi[0], o.roi[1], o.roi[2]}, o.mode == BlendMode::kGaussian, o.sigma_scale)
          .view({1, 1, o.roi[0], o.roi[1], o.roi[2]});
  for (int64_t n = 0; n < x.size(0); ++n) {
    run_image(n, x.narrow(0, n, 1), predictor, o, pad, size, weight.to(x.device(), x.scalar_type()), sink);
  }
}

at::Tensor sliding_window(const at::Tensor& input, const WindowPredictor& predictor, const SlidingWindowOptions& o) {
  at::Tensor out;
  sliding_window_slabs(input, predictor, o, [&](int64_t image, int64_t z0, const at::Tensor& slab) {
    if (!out.defined()) {
      out = at::empty({input.size(0), slab.size(1), input.size(2), input.size(3), input.size(4)}, slab.options());
    }
    out.narrow(0, image, 1).narrow(2, z0, slab.size(2)).copy_(slab);
  });
  return out;
}

int64_t sliding_window_bytes(const std::array<int64_t, 4>& chw, int64_t classes, const SlidingWindowOptions& o) {
  const auto& r = o.roi;
  const int64_t dp = std::max(chw[1], r[0]), hp = std::max(chw[2], r[1]), wp = std::max(chw[3], r[2]);
  const bool padded = dp != chw[1] || hp != chw[2] || wp != chw[3];
  const int64_t window = r[0] * r[1] * r[2];
  // The padded copy; sum, count, a slab's quotient and the carried clone;
  // a batch of windows in, out and weighted.
  const int64_t floats = (padded ? chw[0] * dp * hp * wp : 0) + (3 * classes + 2) * r[0] * hp * wp +
                         o.sw_batch * (chw[0] + 2 * classes) * window;
  return 4 * floats;
}

}  // namespace medtrain::exporter
