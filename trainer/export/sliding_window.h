#pragma once
// Sliding-window inference over a volume larger (or smaller) than the window a
// model was trained on: MONAI's `sliding_window_inference` (monai 1.6.1,
// monai/inferers/utils.py), reimplemented so that its output is the same
// within float rounding (tests/trainer/export/sliding_window_test.cpp):
//
//   - a spatial axis shorter than the ROI is padded with `cval`, half before
//     (floor) and the rest after, and the output cropped back;
//   - windows start every int(roi * (1 - overlap)) voxels (roi when the axis
//     equals the ROI), the last one moved back to end at the border
//     (_get_scan_interval, dense_patch_slices), in depth-major order;
//   - each window's prediction is weighted by the importance map (constant:
//     ones; gaussian: exp(-x^2 / (2 (sigma_scale * roi)^2)) per axis,
//     clamped to at least max(min, 1e-3): compute_importance_map) and the sum
//     divided by the summed weights.
//
// Unlike MONAI the output is streamed: windows are visited in MONAI's order,
// whose depth starts only grow, so the slices before the next window's start
// are final. They are normalised and handed to a sink, and only about two
// ROI depths of the accumulation are ever held (Note [Streamed accumulation]).
// The input is read in place (copied only when padded).
//
// Shapes: input float32 [N, C, D, H, W] on any device; the predictor maps
// [B, C, rd, rh, rw] (B <= sw_batch) to [B, K, rd, rh, rw] on the same device.
// Images of the batch are processed one after the other. Not thread-safe
// beyond what the predictor is.
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace medtrain::exporter {

enum class BlendMode { kConstant, kGaussian };

// "constant" | "gaussian"; UserError naming `flag` otherwise.
BlendMode blend_mode_from(const std::string& name, const std::string& flag);

struct SlidingWindowOptions {
  std::array<int64_t, 3> roi{};  // window depth, rows, cols; each >= 1
  double overlap = 0.25;         // in [0, 1)
  BlendMode mode = BlendMode::kConstant;
  double sigma_scale = 0.125;    // gaussian only: sigma = sigma_scale * roi per axis
  int64_t sw_batch = 1;          // windows per predictor call, >= 1
  double cval = 0;               // the padding value where the volume is smaller than the ROI
  // Called after each predictor call with the windows done and the total of
  // the current image (progress; optional).
  std::function<void(int64_t done, int64_t total)> on_windows;
};

using WindowPredictor = std::function<at::Tensor(const at::Tensor&)>;

// Called in depth order with consecutive, non-overlapping slabs that together
// cover the volume: `z0` the first slice (in the input's grid), `slab` float32
// [1, K, dz, H, W] on the input's device, final (normalised). `image` is the
// index in the batch. The slab may be a view of a buffer reused afterwards:
// copy what you keep.
using SlabSink = std::function<void(int64_t image, int64_t z0, const at::Tensor& slab)>;

// Runs the windows and streams the result into `sink`. Throws
// std::invalid_argument for bad options or shapes, and when the predictor
// returns another spatial size than the ROI.
void sliding_window_slabs(const at::Tensor& input, const WindowPredictor& predictor,
                          const SlidingWindowOptions& options, const SlabSink& sink);

// The whole output float32 [N, K, D, H, W] (what MONAI returns); for volumes
// that fit in memory twice, and for tests.
at::Tensor sliding_window(const at::Tensor& input, const WindowPredictor& predictor,
                          const SlidingWindowOptions& options);

// Bytes the sliding window itself holds for one image of [C, D, H, W] with K
// output channels (the padded copy, the accumulation, one batch of windows in
// and out), not counting the predictor's own activations.
int64_t sliding_window_bytes(const std::array<int64_t, 4>& chw, int64_t classes, const SlidingWindowOptions& options);

}  // namespace medtrain::exporter
