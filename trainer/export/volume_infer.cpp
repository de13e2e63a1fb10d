#include "trainer/export/volume_infer.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>

#include "data/data_error.h"
#include "data/dicom/series_volume.h"
#include "data/npy_writer.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/export/infer_inputs.h"
#include "trainer/export/infer_progress.h"
#include "trainer/export/mask_outputs.h"
#include "trainer/export/prediction_writer.h"
#include "trainer/export/volume_segmentation.h"
#include "trainer/user_error.h"
#include "trainer/version.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;

SlidingWindowOptions window_options(const InferOptions& o) {
  SlidingWindowOptions w;
  if (!(o.sw_overlap >= 0 && o.sw_overlap < 1)) {
    throw UserError(fmt::format("--sw-overlap: expected a fraction in [0, 1), got {}", o.sw_overlap));
  }
  w.overlap = o.sw_overlap;
  w.mode = blend_mode_from(o.sw_mode, "--sw-mode");
  w.sw_batch = o.sw_batch;
  return w;
}

std::string gb(int64_t bytes) { return fmt::format("{:.1f} GB", static_cast<double>(bytes) / 1e9); }

class MaskWriter {
 public:
  MaskWriter(const InferOptions& o, const ModelCard& card) : o_(o), dir_(masks_dir(o.out)) {
    seg_.label_names = card.labels;
    seg_.fractional = o.seg_fractional;
    seg_.algorithm_name = card.architecture;
    seg_.algorithm_version = kVersion;
  }

  // Writes every asked-for format; the prediction names them (the first in `mask`).
  void write(size_t index, const VolumeSegmentation& s, const data::SeriesVolume& series, Prediction& pred) {
    make_dir();
    const std::string stem = fmt::format("{:06d}", index);
    for (const std::string& format : o_.mask_formats) {
      const std::string name = stem + (format == "npy" ? ".npy" : format == "seg" ? ".seg.dcm" : ".nii.gz");
      const fs::path file = dir_ / name;
      if (format == "npy") {
        data::write_npy_u8(file.string(), s.labels.data_ptr<uint8_t>(), s.labels.sizes().vec());
      } else if (format == "seg") {
        write_dicom_seg(file, s.labels, s.probabilities, series, seg_);
      } else {
        write_nifti(file, s.labels, series);
      }
      pred.masks.emplace_back(format, (fs::path(dir_.filename()) / name).generic_string());
    }
    pred.mask = pred.masks.front().second;
  }

 private:
  void make_dir() {
    if (made_) return;  // once, with the first mask: a run that predicts nothing leaves no folder
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw UserError("--out " + o_.out.string() + ": cannot create " + dir_.string() + ": " + ec.message());
    made_ = true;
  }

  const InferOptions& o_;
  fs::path dir_;
  SegWriteOptions seg_;
  bool made_ = false;
};

}  // namespace

InferSummary run_volume_inference(const InferOptions& o, LoadedModel& m, InferSummary summary) {
  const SlidingWindowOptions window = window_options(o);
  const bool fractional = o.seg_fractional &&
                          std::find(o.mask_formats.begin(), o.mask_formats.end(), "seg") != o.mask_formats.end();
  const auto limit = static_cast<int64_t>(o.max_volume_gb * 1e9);
  const std::vector<std::string> paths = collect_series(o.in);
  summary.files = paths.size();
  MaskWriter writer(o, m.card);
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& path = paths[i];
    try {
      const data::SeriesVolume series = data::read_series_volume(path);
      const auto& v = series.voxels;
      const std::array<int64_t, 3> shape{v.size(0), v.size(1), v.size(2)};
      const int64_t need = volume_segmentation_bytes(shape, series.spacing, m.card, window, fractional);
      if (need > limit) {
        const std::string why = fmt::format("{}: segmenting {}x{}x{} voxels needs about {}, over --max-volume-gb {}",
                                            path, shape[0], shape[1], shape[2], gb(need), o.max_volume_gb);
        if (o.on_error == data::OnError::kFail) throw data::DataError(why + " (raise it or --on-error skip)");
        summary.failed.emplace_back(path, why);
        continue;
      }
      // A series can take minutes: the bar counts its windows.
      InferProgress progress(o.progress, "windows", 0, fmt::format("series {}/{} windows", i + 1, paths.size()));
      SlidingWindowOptions w = window;
      w.on_windows = [&progress](int64_t done, int64_t total) { progress.done(done, total); };
      const VolumeSegmentation s = segment_volume(series, *m.model, m.device, m.card, w, fractional, path);
      progress.finish();
      Prediction pred;
      pred.path = path;
      pred.mask_shape = s.labels.sizes().vec();
      pred.pixels = s.pixels;
      writer.write(i, s, series, pred);
      summary.predictions.push_back(std::move(pred));
    } catch (const data::DataError& e) {
      if (o.on_error == data::OnError::kFail) throw;
      summary.skipped.emplace_back(path, e.what());
    }
  }
  if (summary.predictions.empty()) {
    const auto& first = !summary.skipped.empty() ? summary.skipped.front() : summary.failed.front();
    throw UserError("--in " + o.in.string() + ": none of the " + std::to_string(paths.size()) +
                    " series could be segmented (first: " + first.second + ")");
  }
  checkpoint::write_file_atomic(o.out, predictions_text(o.out, summary.predictions, m.card));
  return summary;
}

}  // namespace medtrain::exporter
