#include "data/dicom/series_volume.h"

#include <torch/nn/functional/upsampling.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "data/data_error.h"
#include "data/dicom/dicom_image.h"
#include "data/dicom/multiframe_volume.h"
#include "data/io/user_file.h"

namespace medtrain::data {
namespace {

namespace fs = std::filesystem;

constexpr double kOrientationTolerance = 1e-4;
constexpr double kGapTolerance = 0.10;  // relative to the median gap

struct Slice {
  std::string file;
  DicomImage image;
  double along_normal = 0;
};

[[noreturn]] void fail(const std::string& folder, const std::string& what) {
  throw DataError(io::display_path(folder) + ": inconsistent or unreadable series: " + what);
}

std::vector<std::string> list_files(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    throw DataError(io::display_path(folder) + ": not a folder (a series is a folder of slices)");
  }
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name.empty() || name[0] == '.' || name == "DICOMDIR") continue;
    files.push_back(e.path().string());
  }
  if (ec) throw DataError(io::display_path(folder) + ": cannot list folder: " + ec.message());
  if (files.empty()) throw DataError(io::display_path(folder) + ": no files in this series folder");
  std::sort(files.begin(), files.end());
  return files;
}

std::array<double, 3> normal_of(const std::array<double, 6>& o) {
  return {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
}

// Every slice against the first: one frame, grey, same size/orientation/spacing/series.
void check_consistent(const std::string& folder, const std::vector<Slice>& slices) {
  const DicomImageInfo& a = slices[0].image.info;
  for (const Slice& s : slices) {
    const DicomImageInfo& b = s.image.info;
    auto bad = [&](const std::string& what) { fail(folder, s.file + ": " + what + " differs from " + slices[0].file); };
    if (b.frames != 1 || b.samples_per_pixel != 1) {
      fail(folder, s.file + ": a series slice must be one grey frame (has " + std::to_string(b.frames) +
                       " frames, " + std::to_string(b.samples_per_pixel) + " samples per pixel)");
    }
    if (!b.image_position || !b.image_orientation) {
      fail(folder, s.file + ": missing ImagePositionPatient (0020,0032) or ImageOrientationPatient (0020,0037)");
    }
    if (b.rows != a.rows || b.cols != a.cols) {
      bad("size " + std::to_string(b.rows) + "x" + std::to_string(b.cols) + " (vs " + std::to_string(a.rows) + "x" +
          std::to_string(a.cols) + ")");
    }
    for (int k = 0; k < 6; ++k) {
      if (std::abs((*b.image_orientation)[k] - (*a.image_orientation)[k]) > kOrientationTolerance) {
        bad("ImageOrientationPatient");
      }
    }
    if (b.pixel_spacing.has_value() != a.pixel_spacing.has_value() ||
        (b.pixel_spacing && (std::abs((*b.pixel_spacing)[0] - (*a.pixel_spacing)[0]) > 1e-4 ||
                             std::abs((*b.pixel_spacing)[1] - (*a.pixel_spacing)[1]) > 1e-4))) {
      bad("PixelSpacing");
    }
    if (b.series_instance_uid != a.series_instance_uid) bad("SeriesInstanceUID '" + b.series_instance_uid + "'");
  }
}

double slice_spacing(const std::string& folder, const std::vector<Slice>& slices) {
  if (slices.size() == 1) return 1.0;  // a single slice has no gap; 1 mm keeps the volume usable
  std::vector<double> gaps;
  for (size_t i = 1; i < slices.size(); ++i) {
    const double gap = slices[i].along_normal - slices[i - 1].along_normal;
    if (gap < 1e-6) fail(folder, slices[i].file + " and " + slices[i - 1].file + " are at the same position");
    gaps.push_back(gap);
  }
  std::vector<double> sorted = gaps;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double median = sorted[sorted.size() / 2];
  for (size_t i = 0; i < gaps.size(); ++i) {
    if (std::abs(gaps[i] - median) > kGapTolerance * median) {
      fail(folder, "gap of " + std::to_string(gaps[i]) + " mm between " + slices[i].file + " and " +
                       slices[i + 1].file + " vs a median of " + std::to_string(median) + " mm (missing slice?)");
    }
  }
  return median;
}

}  // namespace

SeriesVolume read_series_volume(const std::string& folder) {
  std::error_code ec;
  if (fs::is_regular_file(folder, ec)) return read_multiframe_volume(folder).volume;
  std::vector<Slice> slices;
  for (const std::string& f : list_files(folder)) slices.push_back({f, read_dicom_image(f), 0.0});
  check_consistent(folder, slices);
  const std::array<double, 3> n = normal_of(*slices[0].image.info.image_orientation);
  for (Slice& s : slices) {
    const auto& p = *s.image.info.image_position;
    s.along_normal = p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
  }
  std::sort(slices.begin(), slices.end(),
            [](const Slice& a, const Slice& b) { return a.along_normal < b.along_normal; });
  SeriesVolume v;
  const DicomImageInfo& first = slices[0].image.info;
  const std::array<double, 2> pixel = first.pixel_spacing.value_or(std::array<double, 2>{1.0, 1.0});
  v.spacing = {slice_spacing(folder, slices), pixel[0], pixel[1]};
  v.origin = *first.image_position;
  v.orientation = *first.image_orientation;
  std::vector<torch::Tensor> planes;
  for (const Slice& s : slices) {
    planes.push_back(s.image.pixels[0]);
    v.files.push_back(s.file);
  }
  v.voxels = torch::stack(planes).contiguous();
  return v;
}

std::array<int64_t, 3> resampled_size(const std::array<int64_t, 3>& shape, const std::array<double, 3>& spacing,
                                      const std::array<double, 3>& target) {
  std::array<int64_t, 3> size{};
  for (int k = 0; k < 3; ++k) {
    if (!(target[k] > 0)) throw DataError("resample_volume: target spacing must be > 0, got " + std::to_string(target[k]));
    const double extent = static_cast<double>(shape[k]) * spacing[k];
    size[k] = std::max<int64_t>(1, std::llround(extent / target[k]));
  }
  return size;
}

SeriesVolume resample_volume(const SeriesVolume& volume, const std::array<double, 3>& target) {
  const auto& v = volume.voxels;
  const std::array<int64_t, 3> n = resampled_size({v.size(0), v.size(1), v.size(2)}, volume.spacing, target);
  const std::vector<int64_t> size(n.begin(), n.end());
  namespace F = torch::nn::functional;
  SeriesVolume out = volume;
  out.voxels = F::interpolate(volume.voxels.unsqueeze(0).unsqueeze(0),
                              F::InterpolateFuncOptions().size(size).mode(torch::kTrilinear).align_corners(false))
                   .squeeze(0)
                   .squeeze(0)
                   .contiguous();
  for (int k = 0; k < 3; ++k) out.spacing[k] = volume.spacing[k] * volume.voxels.size(k) / size[k];
  return out;
}

}  // namespace medtrain::data
