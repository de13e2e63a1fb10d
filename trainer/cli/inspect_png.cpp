#include "trainer/cli/inspect_png.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "data/dicom/dicom_image.h"
#include "data/dicom/series_volume.h"
#include "data/dicom/window_normalize.h"
#include "data/io/output_file.h"
#include "data/io/user_file.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/metrics/png_codec.h"
#include "trainer/metrics/raster_image.h"
#include "trainer/user_error.h"

namespace medtrain::cli {
namespace {

// The frames of the input in the order `--npy` writes them: a file's frames
// as stored, a folder's slices along the slice normal.
struct Frames {
  torch::Tensor values;  // float32 [F, H, W] or [F, H, W, 3], modality values
  data::DicomImageInfo info;  // of the file (a folder: of the slice shown)
  const char* unit;           // "frame" or "slice"
};

struct Window {
  double center = 0, width = 0;
  std::string source;
};

// As training with data.window_from_file picks it; the flags win; without
// either, a window that hides nothing: the frame's range (grey) or the whole
// 8- or 16-bit range (colour, so that a photograph stays as it is).
Window choose_window(const InspectPngOptions& o, const data::DicomImageInfo& info, const torch::Tensor& frame) {
  if (o.window_center && o.window_width) return {*o.window_center, *o.window_width, "--window-center/--window-width"};
  if (info.window_center && info.window_width && *info.window_width > 0) {
    return {*info.window_center, *info.window_width, "the file's Window Center/Width"};
  }
  const double lo = frame.min().item<double>(), hi = frame.max().item<double>();
  if (frame.dim() == 3) {
    const double top = hi <= 255 ? 255 : 65535;
    return {top / 2, top, fmt::format("the full 0..{} colour range: no window in the file", top)};
  }
  if (hi == lo) return {lo, 1.0, "the frame's range (constant: mid-gray): no window in the file"};
  return {(lo + hi) / 2, hi - lo, "the frame's value range: no window in the file"};
}

// [0, 1] -> round half up to 0..255, row-major, channels last.
metrics::RasterImage to_raster(const torch::Tensor& unit) {
  const torch::Tensor bytes = (unit * 255.0f + 0.5f).floor_().clamp_(0, 255).to(torch::kUInt8).contiguous();
  metrics::RasterImage img(unit.size(1), unit.size(0), unit.dim() == 3 ? 3 : 1);
  std::memcpy(img.pixels.data(), bytes.data_ptr<uint8_t>(), img.pixels.size());
  return img;
}

Frames read_frames(const std::string& input, const std::optional<int64_t>& frame) {
  std::error_code ec;
  if (std::filesystem::is_directory(input, ec)) {
    data::SeriesVolume v = data::read_series_volume(input);
    const int64_t k = frame.value_or(v.voxels.size(0) / 2);
    const std::string& slice_file = v.files.at(k >= 0 && k < v.voxels.size(0) ? k : 0);
    // The slice's own decode, for its window: read_dicom_info would leave a
    // MONOCHROME1 window unreflected (dicom_decode.cpp reflects it on decode).
    return {v.voxels, data::read_dicom_image(slice_file).info, "slice"};
  }
  data::DicomImage img = data::read_dicom_image(input);
  return {img.pixels, img.info, "frame"};
}

}  // namespace

// `inspect scan.dcm --png scan.dcm` would replace the DICOM with its picture.
void check_out_is_not_the_input(const std::string& out_path, const std::string& flag, const std::string& input) {
  const std::filesystem::path out(out_path);
  std::error_code ec;
  if (!std::filesystem::exists(out, ec)) return;
  const std::filesystem::path folder = out.has_parent_path() ? out.parent_path() : ".";
  if (data::io::same_file(out, input)) {
    throw UserError(flag + " " + data::io::display_path(out_path) +
                    ": is the DICOM file being inspected; name another file");
  }
  if (std::filesystem::is_directory(input, ec) && data::io::same_file(folder, input)) {
    throw UserError(flag + " " + data::io::display_path(out_path) + ": is a file of the series folder being inspected; "
                    "name a new file or one outside it");
  }
}

void check_inspect_png_options(const InspectPngOptions& o) {
  // Written as the report is (a temporary name, then renamed): a link, FIFO
  // or device at OUT is refused rather than replaced or written through.
  data::io::check_output_file(o.out, "--png", "PNG");
  check_out_is_not_the_input(o.out, "--png", o.input);
  if (o.window_width && !(*o.window_width > 0 && std::isfinite(*o.window_width))) {
    throw UserError(fmt::format("--window-width {}: expected a positive number", *o.window_width));
  }
  if (o.window_center && !std::isfinite(*o.window_center)) {
    throw UserError(fmt::format("--window-center {}: expected a finite number", *o.window_center));
  }
}

std::string write_inspect_png(const InspectPngOptions& o) {
  const Frames frames = read_frames(o.input, o.frame);
  const int64_t count = frames.values.size(0);
  const int64_t k = o.frame.value_or(count / 2);
  if (k < 0 || k >= count) {
    throw UserError(fmt::format("--frame {}: {} has {} {}{} (0..{})", k, data::io::display_path(o.input), count,
                                frames.unit, count == 1 ? "" : "s", count - 1));
  }
  const torch::Tensor frame = frames.values[k].contiguous();
  const Window w = choose_window(o, frames.info, frame);
  data::DicomDatasetOptions pipeline;  // mean 0, std 1, no augmentation: the windowed [0, 1]
  pipeline.window_center = w.center;
  pipeline.window_width = w.width;
  const metrics::RasterImage img = to_raster(data::window_normalize(frame, pipeline));
  checkpoint::write_file_atomic(o.out, metrics::encode_png(img));
  return fmt::format("wrote {}: {} {} of {}{}, {} x {} {}, window center {}, width {} ({})",
                     data::io::display_path(o.out), frames.unit, k, count, o.frame ? "" : " (the middle one)",
                     img.height, img.width, img.channels == 3 ? "RGB" : "gray", w.center, w.width, w.source);
}

}  // namespace medtrain::cli
