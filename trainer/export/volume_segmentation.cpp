#include "trainer/export/volume_segmentation.h"

#include <torch/nn/functional/upsampling.h>
#include <torch/torch.h>

#include "data/data_error.h"

namespace medtrain::exporter {
namespace {

namespace F = torch::nn::functional;

// Note [Volume memory estimate]
// The model's activations are not known in closed form; a BasicUNet at full
// resolution holds a few tensors of 32 channels per window voxel, so 256
// floats per window voxel bounds the 3D U-Nets of the zoo with room to spare.
constexpr int64_t kActivationFloatsPerVoxel = 256;

bool resamples(const std::array<int64_t, 3>& shape, const std::array<int64_t, 3>& grid) { return shape != grid; }

// The training intensity transform (data/dicom/dicom_dataset.cpp's
// IntensityMap without augmentation): clamp((x - lo) / width, 0, 1), then
// (y - mean) / std, with the same float32 constants.
torch::Tensor window_normalize(const torch::Tensor& hu, const Preprocessing& p) {
  const auto lo = static_cast<float>(p.window_center - p.window_width / 2.0);
  const auto inv_width = static_cast<float>(1.0 / p.window_width);
  const auto scale = static_cast<float>(1.0 / p.std), shift = static_cast<float>(-p.mean / p.std);
  return ((hu - lo) * inv_width).clamp_(0, 1).mul_(scale).add_(shift);
}

torch::Tensor to_u8(const torch::Tensor& p) { return (p * 255).round_().to(torch::kUInt8); }

}  // namespace

std::array<int64_t, 3> model_grid(const std::array<int64_t, 3>& shape, const std::array<double, 3>& spacing,
                                  const ModelCard& card) {
  const Preprocessing& p = card.preprocessing;
  if (!p.has_spacing()) return shape;
  return data::resampled_size(shape, spacing, {p.slice_spacing, p.pixel_spacing, p.pixel_spacing});
}

int64_t volume_segmentation_bytes(const std::array<int64_t, 3>& shape, const std::array<double, 3>& spacing,
                                  const ModelCard& card, const SlidingWindowOptions& window, bool probabilities) {
  const auto grid = model_grid(shape, spacing, card);
  const int64_t s = shape[0] * shape[1] * shape[2], m = grid[0] * grid[1] * grid[2], k = card.num_classes;
  const bool back = resamples(shape, grid);
  SlidingWindowOptions w = window;
  w.roi = card.preprocessing.roi;
  int64_t bytes = 4 * m * (back ? 2 : 1);  // resampled values, the windowed input
  bytes += sliding_window_bytes({card.in_channels, grid[0], grid[1], grid[2]}, k, w);
  bytes += 4 * kActivationFloatsPerVoxel * w.sw_batch * w.roi[0] * w.roi[1] * w.roi[2];
  if (back) bytes += 4 * k * m + 9 * s;  // model-grid probabilities; one class upsampled, the best, a mask
  bytes += s + (probabilities ? k * s : 0);
  return bytes;
}

VolumeSegmentation segment_volume(const data::SeriesVolume& series, models::ImageModel& model,
                                  const c10::Device& device, const ModelCard& card, SlidingWindowOptions window,
                                  bool probabilities, const std::string& where) {
  const Preprocessing& p = card.preprocessing;
  const torch::Tensor& v = series.voxels;
  const std::array<int64_t, 3> shape{v.size(0), v.size(1), v.size(2)};
  if (p.has_spacing()) {
    for (const double sp : series.spacing) {
      if (!(sp > 0)) {
        throw data::DataError(where + ": voxel spacing unknown (no Pixel Spacing or slice positions), so it "
                              "cannot be resampled to the bundle's training spacing");
      }
    }
  }
  const auto grid = model_grid(shape, series.spacing, card);
  const bool back = resamples(shape, grid);
  torch::Tensor hu = back ? data::resample_volume(series, {p.slice_spacing, p.pixel_spacing, p.pixel_spacing}).voxels
                          : v;
  const torch::Tensor x = window_normalize(hu, p).view({1, 1, grid[0], grid[1], grid[2]});
  hu = torch::Tensor();
  window.roi = p.roi;
  window.cval = static_cast<float>(-p.mean / p.std);  // black after windowing, as training padded

  const int64_t k = card.num_classes;
  VolumeSegmentation out;
  out.labels = torch::zeros({shape[0], shape[1], shape[2]}, torch::kUInt8);
  if (probabilities) out.probabilities = torch::empty({k, shape[0], shape[1], shape[2]}, torch::kUInt8);
  torch::Tensor model_probs = back ? torch::empty({k, grid[0], grid[1], grid[2]}) : torch::Tensor();

  const int64_t channels = card.in_channels;
  const WindowPredictor predictor = [&](const at::Tensor& w) {
    // Training feeds one grey channel; a model built for more sees it repeated.
    const at::Tensor in = w.expand({w.size(0), channels, w.size(2), w.size(3), w.size(4)}).contiguous();
    return model.forward(in.to(device)).to(torch::kCPU, torch::kFloat);
  };
  torch::NoGradGuard no_grad;
  sliding_window_slabs(x, predictor, window, [&](int64_t, int64_t z0, const at::Tensor& slab) {
    const torch::Tensor prob = torch::softmax(slab[0], 0);  // [K, dz, H, W]
    if (back) {
      model_probs.narrow(1, z0, prob.size(1)).copy_(prob);
      return;
    }
    out.labels.narrow(0, z0, prob.size(1)).copy_(prob.argmax(0));
    if (probabilities) out.probabilities.narrow(1, z0, prob.size(1)).copy_(to_u8(prob));
  });
  if (back) {
    // One class at a time back to the series grid: the argmax as a running
    // maximum (strictly greater, so ties keep the lower class, as argmax does).
    const auto size = F::InterpolateFuncOptions()
                          .size(std::vector<int64_t>(shape.begin(), shape.end()))
                          .mode(torch::kTrilinear)
                          .align_corners(false);
    torch::Tensor best;
    for (int64_t c = 0; c < k; ++c) {
      const torch::Tensor up = F::interpolate(model_probs[c].unsqueeze(0).unsqueeze(0), size)[0][0];
      if (c == 0) {
        best = up;
      } else {
        const torch::Tensor higher = up > best;
        out.labels.masked_fill_(higher, c);
        best = torch::maximum(best, up);
      }
      if (probabilities) out.probabilities[c].copy_(to_u8(up));
    }
  }
  const torch::Tensor counts = torch::bincount(out.labels.reshape({-1}).to(torch::kLong), {}, k);
  for (int64_t c = 0; c < k; ++c) out.pixels.push_back(counts[c].item<int64_t>());
  return out;
}

}  // namespace medtrain::exporter
