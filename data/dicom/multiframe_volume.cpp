#include "data/dicom/multiframe_volume.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "data/data_error.h"
#include "data/dicom/dicom_header.h"
#include "data/dicom/dicom_image.h"
#include "data/dicom/functional_groups.h"
#include "data/io/user_file.h"

namespace medtrain::data {
namespace {

constexpr double kOrientationTolerance = 1e-4;
constexpr double kGapTolerance = 0.10;  // relative to the median gap, as series_volume

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError(io::display_path(path) + ": multi-frame volume: " + what);
}

std::array<double, 3> normal_of(const std::array<double, 6>& o) {
  return {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
}

double dot(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

bool has(DcmDataset* ds, const DcmTagKey& key) { return ds->tagExistsWithValue(key); }

// Segmentations have per-frame groups too, but they are labels (seg_labels.h).
bool is_segmentation(DcmDataset* ds) {
  return detail::get_string(ds, DCM_SOPClassUID) == "1.2.840.10008.5.1.4.1.1.66.4";
}

// Where each frame lies and how its values are transformed.
struct Frame {
  std::array<double, 3> position{};
  double along = 0;
  double slope = 1, intercept = 0;
};

struct Layout {
  std::vector<Frame> frames;
  std::array<double, 6> orientation{};
  std::array<double, 2> pixel{1.0, 1.0};
};

Layout dose_layout(DcmDataset* ds, const DicomImageInfo& info, const std::string& path, MultiframeVolume& out) {
  if (!info.image_position || !info.image_orientation) {
    fail(path, "RT dose without ImagePositionPatient (0020,0032) or ImageOrientationPatient (0020,0037)");
  }
  Layout l;
  l.orientation = *info.image_orientation;
  l.pixel = info.pixel_spacing.value_or(l.pixel);
  std::vector<double> offsets(static_cast<size_t>(info.frames), 0.0);
  for (size_t k = 0; k < offsets.size(); ++k) {
    if (ds->findAndGetFloat64(DCM_GridFrameOffsetVector, offsets[k], static_cast<unsigned long>(k)).bad()) {
      if (info.frames == 1 && k == 0) break;  // one plane needs no offsets
      fail(path, "GridFrameOffsetVector (3004,000C) has fewer values than the " + std::to_string(info.frames) +
                     " frames");
    }
    if (!std::isfinite(offsets[k])) fail(path, "GridFrameOffsetVector (3004,000C) is not finite");
  }
  const std::array<double, 3> n = normal_of(l.orientation);
  const std::array<double, 3>& p = *info.image_position;
  const bool relative = offsets[0] == 0.0;
  const bool axial = std::abs(n[0]) < 1e-6 && std::abs(n[1]) < 1e-6 && std::abs(n[2] - 1.0) < 1e-6;
  if (!relative && !axial) {
    fail(path, "GridFrameOffsetVector (3004,000C) holds absolute z values (first one not 0), which the standard "
               "allows only for axial grids (ImageOrientationPatient 1\\0\\0\\0\\1\\0)");
  }
  Float64 scaling = 1.0;
  if (ds->findAndGetFloat64(DCM_DoseGridScaling, scaling).good() && !(std::isfinite(scaling) && scaling > 0)) {
    fail(path, "DoseGridScaling (3004,000E) must be a finite positive number");
  }
  out.dose_grid_scaling = scaling;
  OFString units;
  if (ds->findAndGetOFString(DCM_DoseUnits, units).good()) out.units = units.c_str();
  for (const double o : offsets) {
    Frame f;
    f.position = relative ? std::array<double, 3>{p[0] + o * n[0], p[1] + o * n[1], p[2] + o * n[2]}
                          : std::array<double, 3>{p[0], p[1], o};
    f.along = dot(n, f.position);
    f.slope = scaling;  // on top of the decoded values (a dose file's rescale, if any, is in them)
    l.frames.push_back(f);
  }
  return l;
}

Layout enhanced_layout(DcmDataset* ds, const DicomImageInfo& info, const std::string& path) {
  Layout l;
  for (int64_t k = 0; k < info.frames; ++k) {
    const detail::FrameAttributes a = detail::frame_attributes(ds, static_cast<size_t>(k), path);
    const std::string where = "frame " + std::to_string(k + 1);
    if (!a.position || !a.orientation) {
      fail(path, where + " has no PlanePositionSequence or PlaneOrientationSequence (per-frame or shared)");
    }
    if (k == 0) {
      l.orientation = *a.orientation;
      l.pixel = a.pixel_spacing.value_or(info.pixel_spacing.value_or(l.pixel));
    }
    for (int i = 0; i < 6; ++i) {
      if (std::abs((*a.orientation)[i] - l.orientation[i]) > kOrientationTolerance) {
        fail(path, where + "'s ImageOrientationPatient differs from frame 1's (not one stack)");
      }
    }
    Frame f;
    f.position = *a.position;
    f.along = dot(normal_of(l.orientation), f.position);
    // The decoder applied the top-level rescale (identity when absent, as the
    // enhanced IODs require); the frame's own replaces it.
    f.slope = a.slope.value_or(info.slope) / info.slope;
    f.intercept = a.intercept.value_or(info.intercept) - info.intercept * f.slope;
    l.frames.push_back(f);
  }
  return l;
}

double median_gap(const std::string& path, const Layout& l, const std::vector<int64_t>& order) {
  if (order.size() == 1) return 1.0;  // one plane: 1 mm, as a one-slice series
  std::vector<double> gaps;
  for (size_t i = 1; i < order.size(); ++i) {
    const double gap = l.frames[order[i]].along - l.frames[order[i - 1]].along;
    if (gap < 1e-6) {
      fail(path, "frames " + std::to_string(order[i - 1] + 1) + " and " + std::to_string(order[i] + 1) +
                     " are at the same position (several stacks or time points in one file)");
    }
    gaps.push_back(gap);
  }
  std::vector<double> sorted = gaps;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double median = sorted[sorted.size() / 2];
  for (const double g : gaps) {
    if (std::abs(g - median) > kGapTolerance * median) {
      fail(path, "a gap of " + std::to_string(g) + " mm between frames vs a median of " + std::to_string(median) +
                     " mm (missing or uneven frames)");
    }
  }
  return median;
}

}  // namespace

bool is_multiframe_volume(const std::string& path) {
  DcmFileFormat file;
  try {
    detail::load_dicom_file(file, path);  // guarded; values over 4 KiB (the pixels) stay on disk
  } catch (const DataError&) {
    return false;  // the reader proper will say what is wrong with it
  }
  DcmDataset* ds = file.getDataset();
  if (is_segmentation(ds)) return false;
  return has(ds, DCM_GridFrameOffsetVector) || detail::get_string(ds, DCM_Modality) == "RTDOSE" ||
         detail::per_frame_items(ds) > 0;
}

MultiframeVolume read_multiframe_volume(const std::string& path) {
  const DicomImage image = read_dicom_image(path);
  const DicomImageInfo& info = image.info;
  if (image.pixels.dim() != 3) fail(path, "a volume must be grey, not colour");
  DcmFileFormat file;
  detail::load_dicom_file(file, path);
  DcmDataset* ds = file.getDataset();
  if (is_segmentation(ds)) fail(path, "a DICOM SEG is a label, not an image: name it in the manifest's mask column");
  MultiframeVolume out;
  Layout l;
  if (has(ds, DCM_GridFrameOffsetVector) || info.modality == "RTDOSE") {
    out.kind = "RT dose";
    l = dose_layout(ds, info, path, out);
  } else if (detail::per_frame_items(ds) > 0) {
    out.kind = "enhanced multi-frame";
    if (static_cast<int64_t>(detail::per_frame_items(ds)) != info.frames) {
      fail(path, "PerFrameFunctionalGroupsSequence has " + std::to_string(detail::per_frame_items(ds)) +
                     " items for " + std::to_string(info.frames) + " frames");
    }
    l = enhanced_layout(ds, info, path);
  } else {
    fail(path, "neither an RT dose grid (GridFrameOffsetVector) nor an enhanced image (PerFrameFunctionalGroupsSequence)");
  }
  std::vector<int64_t> order(l.frames.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return l.frames[a].along < l.frames[b].along; });
  SeriesVolume& v = out.volume;
  v.spacing = {median_gap(path, l, order), l.pixel[0], l.pixel[1]};
  v.origin = l.frames[order[0]].position;
  v.orientation = l.orientation;
  v.files = {path};
  std::vector<torch::Tensor> planes;
  for (const int64_t k : order) {
    const Frame& f = l.frames[k];
    torch::Tensor plane = image.pixels[k].to(torch::kFloat64);
    planes.push_back((plane * f.slope + f.intercept).to(torch::kFloat32));
  }
  v.voxels = torch::stack(planes).contiguous();
  return out;
}

}  // namespace medtrain::data
