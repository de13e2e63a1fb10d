#include "trainer/engine/summary_pictures.h"

#include <c10/util/StringUtil.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "trainer/metrics/overlay.h"

namespace medtrain::engine {
namespace {

constexpr int64_t kPanelGap = 2;   // between the panels of one sample
constexpr int64_t kSampleGap = 8;  // between samples: wider, so a strip reads as one sample

// x [C, H, W] (an image) or [H, W] (a mask) with its longer side at most
// kMaxPanelSide: antialiased bilinear for images, nearest for masks (class
// indices must stay class indices). Integer images keep their dtype.
torch::Tensor fit_panel(const torch::Tensor& x, bool mask) {
  const int64_t h = x.size(-2), w = x.size(-1);
  const int64_t side = std::max(h, w);
  if (side <= kMaxPanelSide) return x;
  const double f = static_cast<double>(kMaxPanelSide) / static_cast<double>(side);
  const std::vector<int64_t> size{std::max<int64_t>(1, std::lround(h * f)), std::max<int64_t>(1, std::lround(w * f))};
  namespace F = torch::nn::functional;
  auto in = (mask ? x.unsqueeze(0) : x).unsqueeze(0).to(torch::kFloat);
  auto options = F::InterpolateFuncOptions().size(size);
  if (mask) return F::interpolate(in, options.mode(torch::kNearest)).squeeze(0).squeeze(0).to(torch::kLong);
  auto out = F::interpolate(in, options.mode(torch::kBilinear).align_corners(false).antialias(true)).squeeze(0);
  return x.is_floating_point() ? out : out.round().to(x.scalar_type());
}

// What one panel column shows of a sample: the plane itself (2D) or the
// three middle slices of a volume.
std::vector<torch::Tensor> planes(const torch::Tensor& t, bool volume) {
  if (!volume) return {t};
  const auto s = metrics::middle_slices(t);
  return {s[0], s[1], s[2]};
}

metrics::RasterImage sample_strip(const BatchPicture& b, int64_t i, bool volume, const metrics::DisplayRange& range) {
  std::vector<metrics::RasterImage> panels;
  for (const auto& p : planes(b.images[i], volume)) panels.push_back(metrics::display_image(fit_panel(p, false), range));
  const size_t views = panels.size();
  for (const torch::Tensor* masks : {&b.targets, &b.predicted}) {
    if (!masks->defined()) continue;
    const auto mask_planes = planes((*masks)[i], volume);
    for (size_t k = 0; k < views; ++k) {
      panels.push_back(metrics::mask_overlay(panels[k], metrics::mask_labels(fit_panel(mask_planes[k], true))));
    }
  }
  return metrics::tile_grid(panels, static_cast<int64_t>(panels.size()), kPanelGap);
}

void check_masks(const torch::Tensor& masks, const torch::Tensor& images, const char* what) {
  if (!masks.defined()) return;
  if (masks.dim() != images.dim() - 1 || masks.size(0) < images.size(0) ||
      masks.sizes().slice(1) != images.sizes().slice(2)) {
    throw std::invalid_argument(fmt::format("batch_picture: {} {} do not match images {}", what,
                                            c10::str(masks.sizes()), c10::str(images.sizes())));
  }
}

}  // namespace

metrics::RasterImage batch_picture(const BatchPicture& b, const metrics::DisplayRange& range) {
  const auto& images = b.images;
  if ((images.dim() != 4 && images.dim() != 5) || images.size(0) == 0) {
    throw std::invalid_argument(fmt::format("batch_picture: expected images [N, C, (D,) H, W] with N >= 1, got {}",
                                            c10::str(images.sizes())));
  }
  check_masks(b.targets, images, "targets");
  check_masks(b.predicted, images, "predictions");
  const bool volume = images.dim() == 5;
  const int64_t n = images.size(0);
  std::vector<metrics::RasterImage> strips;
  for (int64_t i = 0; i < n; ++i) strips.push_back(sample_strip(b, i, volume, range));
  const int64_t panels = (volume ? 3 : 1) * (1 + b.targets.defined() + b.predicted.defined());
  const int64_t columns = std::clamp<int64_t>(4 / panels, 1, n);
  return metrics::tile_grid(strips, columns, kSampleGap);
}

std::string class_name(const std::vector<std::string>& names, int64_t k) {
  return k >= 0 && static_cast<size_t>(k) < names.size() ? names[static_cast<size_t>(k)] : std::to_string(k);
}

std::vector<std::string> class_captions(Task task, const torch::Tensor& targets, const std::vector<std::string>& names) {
  std::vector<std::string> out;
  if (task == Task::kMultilabel) {
    const auto on = targets.detach().to(torch::kCPU, torch::kFloat).gt(0.5).contiguous();
    const auto a = on.accessor<bool, 2>();
    for (int64_t i = 0; i < a.size(0); ++i) {
      std::vector<std::string> present;
      for (int64_t l = 0; l < a.size(1); ++l) {
        if (a[i][l]) present.push_back(class_name(names, l));
      }
      out.push_back(present.empty() ? "none" : fmt::format("{}", fmt::join(present, "+")));
    }
    return out;
  }
  const auto k = targets.detach().to(torch::kCPU, torch::kLong).reshape({-1}).contiguous();
  const auto a = k.accessor<int64_t, 1>();
  for (int64_t i = 0; i < a.size(0); ++i) out.push_back(class_name(names, a[i]));
  return out;
}

torch::Tensor predicted_classes(Task task, const torch::Tensor& logits) {
  if (task == Task::kMultilabel) return logits.gt(0).to(torch::kFloat);
  return logits.argmax(1);
}

}  // namespace medtrain::engine
