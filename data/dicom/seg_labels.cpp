#include "data/dicom/seg_labels.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <unordered_map>
#include <vector>

#include "data/data_error.h"
#include "data/dicom/dicom_bit_unpack.h"
#include "data/dicom/dicom_codecs.h"
#include "data/dicom/dicom_header.h"
#include "data/dicom/dicom_decode.h"
#include "data/dicom/functional_groups.h"
#include "data/dicom/mask_file.h"
#include "data/io/user_file.h"

namespace medtrain::data {
namespace {

constexpr const char* kSegmentationStorage = "1.2.840.10008.5.1.4.1.1.66.4";
constexpr double kPositionTolerance = 0.1;  // of a slice gap / a pixel

[[noreturn]] void fail(const std::string& seg, const std::string& what) {
  throw DataError(io::display_path(seg) + ": DICOM SEG: " + what);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The series' slice files as (SOPInstanceUID -> slice) and its SeriesInstanceUID,
// read from the headers only (the pixels were decoded by read_series_volume).
struct SeriesIds {
  std::unordered_map<std::string, int64_t> slice_of_sop;
  std::string series_uid;
  std::string folder;
};

SeriesIds series_ids(const SeriesVolume& series) {
  SeriesIds ids;
  if (series.files.empty()) return ids;
  ids.folder = io::display_path(std::filesystem::path(series.files[0]).parent_path().string());
  const bool one_file_per_slice = static_cast<int64_t>(series.files.size()) == series.voxels.size(0);
  for (size_t i = 0; i < series.files.size(); ++i) {
    DcmFileFormat file;
    try {
      detail::load_dicom_file(file, series.files[i]);  // pixels stay on disk (loaded on demand)
    } catch (const DataError&) {
      continue;  // read_series_volume read it already; a header we cannot reread just has no UID to match
    }
    DcmDataset* ds = file.getDataset();
    if (i == 0) ids.series_uid = detail::get_string(ds, DCM_SeriesInstanceUID);
    const std::string sop = detail::get_string(ds, DCM_SOPInstanceUID);
    if (one_file_per_slice && !sop.empty()) ids.slice_of_sop[sop] = static_cast<int64_t>(i);
  }
  return ids;
}

// The SEG must annotate this series: when it lists referenced series, ours is one.
void check_referenced_series(DcmDataset* ds, const std::string& seg, const SeriesIds& ids) {
  std::vector<std::string> wanted;
  DcmItem* item = nullptr;
  for (int i = 0; ds->findAndGetSequenceItem(DCM_ReferencedSeriesSequence, item, i).good() && item != nullptr; ++i) {
    wanted.push_back(detail::get_string(item, DCM_SeriesInstanceUID));
  }
  if (wanted.empty() || ids.series_uid.empty()) return;
  if (std::find(wanted.begin(), wanted.end(), ids.series_uid) != wanted.end()) return;
  fail(seg, "references series " + wanted[0] + ", which is absent: " + ids.folder + " holds series " + ids.series_uid);
}

// SegmentNumber -> class index (see seg_labels.h).
std::map<int, int64_t> segment_classes(DcmDataset* ds, const std::string& seg, const std::vector<std::string>& names) {
  std::map<int, int64_t> classes;
  DcmItem* item = nullptr;
  for (int i = 0; ds->findAndGetSequenceItem(DCM_SegmentSequence, item, i).good() && item != nullptr; ++i) {
    Uint16 number = 0;
    if (item->findAndGetUint16(DCM_SegmentNumber, number).bad()) fail(seg, "a segment without SegmentNumber");
    const std::string label = detail::get_string(item, DCM_SegmentLabel);
    if (names.empty()) {
      classes[number] = number;
      continue;
    }
    auto at = std::find_if(names.begin(), names.end(), [&](const std::string& n) { return lower(n) == lower(label); });
    if (at == names.end()) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      fail(seg, "segment " + std::to_string(number) + " '" + label + "' is not among the label names [" + list + "]");
    }
    classes[number] = at - names.begin();
  }
  if (classes.empty()) fail(seg, "no SegmentSequence (0062,0002) items");
  return classes;
}

// The Pixel Data as bytes in file order, uncompressed.
const Uint8* pixel_bytes(DcmDataset* ds, const std::string& seg, size_t need) {
  DcmElement* elem = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, elem).bad() || elem == nullptr) fail(seg, "no Pixel Data");
  auto* pixels = static_cast<DcmPixelData*>(elem);
  const E_TransferSyntax stored = ds->getOriginalXfer();
  if (DcmXfer(stored).isEncapsulated()) {
    register_dicom_codecs();
    if (ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() ||
        !ds->canWriteXfer(EXS_LittleEndianExplicit)) {
      fail(seg, std::string("cannot decode its Pixel Data (") + DcmXfer(stored).getXferName() + ")");
    }
  }
  Uint8* bytes = nullptr;
  if (pixels->getVR() == EVR_OW) {
    Uint16* words = nullptr;  // host order after loading: little endian on our targets, so bytes in file order
    if (pixels->getUint16Array(words).bad()) fail(seg, "unreadable Pixel Data");
    bytes = reinterpret_cast<Uint8*>(words);
  } else if (pixels->getUint8Array(bytes).bad()) {
    fail(seg, "unreadable Pixel Data");
  }
  if (bytes == nullptr || pixels->getLength() < need) {
    fail(seg, "Pixel Data holds " + std::to_string(pixels->getLength()) + " bytes, " + std::to_string(need) +
                  " needed for its frames");
  }
  return bytes;
}

std::array<double, 3> cross(const std::array<double, 6>& o) {
  return {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
}

double dot(const std::array<double, 3>& a, const double* b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

// Where a frame goes: its referenced SOP instance's slice, else its position's.
// -1: the frame belongs to another image of the series (only when !whole_series,
// a 2D sample's one image).
int64_t slice_of_frame(DcmDataset* ds, size_t frame, const std::string& seg, const SeriesVolume& series,
                       const SeriesIds& ids, bool whole_series) {
  DcmItem* derivation = detail::frame_group(ds, frame, DCM_DerivationImageSequence);
  DcmItem* source = nullptr;
  std::string sop;
  if (derivation != nullptr && derivation->findAndGetSequenceItem(DCM_SourceImageSequence, source, 0).good()) {
    sop = detail::get_string(source, DCM_ReferencedSOPInstanceUID);
  }
  const std::string where = "frame " + std::to_string(frame + 1);
  if (!sop.empty() && !ids.slice_of_sop.empty()) {
    const auto at = ids.slice_of_sop.find(sop);
    if (at == ids.slice_of_sop.end()) {
      if (!whole_series) return -1;
      fail(seg, where + " references SOP instance " + sop + ", which is not in the series " + ids.folder);
    }
    return at->second;
  }
  const detail::FrameAttributes a = detail::frame_attributes(ds, frame, seg);
  if (!a.position) fail(seg, where + " has neither a ReferencedSOPInstanceUID nor an ImagePositionPatient");
  const std::array<double, 3> n = cross(series.orientation);
  const double d[3] = {(*a.position)[0] - series.origin[0], (*a.position)[1] - series.origin[1],
                       (*a.position)[2] - series.origin[2]};
  const double z = dot(n, d) / series.spacing[0];
  const double row_off = (d[0] * series.orientation[0] + d[1] * series.orientation[1] + d[2] * series.orientation[2]);
  const double col_off = (d[0] * series.orientation[3] + d[1] * series.orientation[4] + d[2] * series.orientation[5]);
  const int64_t k = std::llround(z);
  if (std::abs(z - k) > kPositionTolerance || k < 0 || k >= series.voxels.size(0) ||
      std::abs(row_off) > kPositionTolerance * series.spacing[2] ||
      std::abs(col_off) > kPositionTolerance * series.spacing[1]) {
    if (!whole_series) return -1;
    fail(seg, where + " at ImagePositionPatient (" + std::to_string((*a.position)[0]) + ", " +
                  std::to_string((*a.position)[1]) + ", " + std::to_string((*a.position)[2]) +
                  ") lies on no slice of the series " + ids.folder);
  }
  return k;
}

void check_geometry(DcmDataset* ds, const std::string& seg, const SeriesVolume& series, int64_t rows, int64_t cols) {
  if (rows != series.voxels.size(1) || cols != series.voxels.size(2)) {
    fail(seg, "frames are " + std::to_string(rows) + "x" + std::to_string(cols) + ", the series' slices " +
                  std::to_string(series.voxels.size(1)) + "x" + std::to_string(series.voxels.size(2)));
  }
  const detail::FrameAttributes a = detail::frame_attributes(ds, 0, seg);
  if (!a.orientation) return;
  for (int i = 0; i < 6; ++i) {
    if (std::abs((*a.orientation)[i] - series.orientation[i]) > 1e-3) {
      fail(seg, "ImageOrientationPatient differs from the series' (a SEG of another plane or series?)");
    }
  }
}

}  // namespace

bool is_dicom_seg(const std::string& path) {
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0) return false;
  DcmFileFormat file;
  try {
    detail::load_dicom_file(file, path);  // guarded; values over 4 KiB (the pixels) stay on disk
  } catch (const DataError&) {
    return false;  // the reader proper will say what is wrong with it
  }
  return detail::get_string(file.getDataset(), DCM_SOPClassUID) == kSegmentationStorage;
}

namespace {

torch::Tensor seg_labels(const std::string& seg, const SeriesVolume& series, const std::vector<std::string>& label_names,
                         bool whole_series) {
  DcmFileFormat file;
  detail::load_dicom_file(file, seg);
  DcmDataset* ds = file.getDataset();
  if (detail::get_string(ds, DCM_SOPClassUID) != kSegmentationStorage) fail(seg, "not a Segmentation Storage file");
  const SeriesIds ids = series_ids(series);
  check_referenced_series(ds, seg, ids);
  const std::map<int, int64_t> classes = segment_classes(ds, seg, label_names);

  Uint16 rows = 0, cols = 0, bits = 0;
  ds->findAndGetUint16(DCM_Rows, rows);
  ds->findAndGetUint16(DCM_Columns, cols);
  ds->findAndGetUint16(DCM_BitsAllocated, bits);
  check_geometry(ds, seg, series, rows, cols);
  Sint32 frames = 1;
  ds->findAndGetSint32(DCM_NumberOfFrames, frames);
  if (frames < 1) fail(seg, "NumberOfFrames " + std::to_string(frames));
  if (bits != 1 && bits != 8) fail(seg, "BitsAllocated " + std::to_string(bits) + " (1 or 8 expected)");
  const bool fractional = detail::get_string(ds, DCM_SegmentationType) == "FRACTIONAL";
  Uint16 max_fraction = 255;
  ds->findAndGetUint16(DCM_MaximumFractionalValue, max_fraction);

  const int64_t plane = int64_t{rows} * cols;
  const size_t need = bits == 1 ? static_cast<size_t>((plane * frames + 7) / 8) : static_cast<size_t>(plane * frames);
  const Uint8* bytes = pixel_bytes(ds, seg, need);
  // One byte per pixel from here on: 1-bit frames are unpacked as the image decoder unpacks them.
  std::vector<uint8_t> unpacked;
  if (bits == 1) {
    unpacked.resize(static_cast<size_t>(plane * frames));
    unpack_bits(bytes, plane * frames, unpacked.data());
    bytes = unpacked.data();
  }

  torch::Tensor labels = torch::zeros({series.voxels.size(0), rows, cols}, torch::kInt64);
  int64_t* out = labels.data_ptr<int64_t>();
  for (int64_t f = 0; f < frames; ++f) {
    Uint16 number = 0;
    DcmItem* ident = detail::frame_group(ds, static_cast<size_t>(f), DCM_SegmentIdentificationSequence);
    if (ident == nullptr || ident->findAndGetUint16(DCM_ReferencedSegmentNumber, number).bad()) {
      fail(seg, "frame " + std::to_string(f + 1) + " names no segment (SegmentIdentificationSequence)");
    }
    const auto cls = classes.find(number);
    if (cls == classes.end()) fail(seg, "frame " + std::to_string(f + 1) + " names segment " +
                                            std::to_string(number) + ", which SegmentSequence does not define");
    const int64_t k = slice_of_frame(ds, static_cast<size_t>(f), seg, series, ids, whole_series);
    if (k < 0) continue;
    int64_t* slice = out + k * plane;
    const Uint8* frame = bytes + f * plane;
    for (int64_t i = 0; i < plane; ++i) {
      const bool on = fractional && bits == 8 ? 2 * int{frame[i]} >= max_fraction : frame[i] != 0;
      if (on) slice[i] = std::max(slice[i], cls->second);
    }
  }
  return labels;
}

void check_classes(const std::string& path, const torch::Tensor& labels, int64_t num_classes) {
  const int64_t hi = labels.max().item<int64_t>();
  if (num_classes > 0 && hi >= num_classes) {
    fail(path, "segment class " + std::to_string(hi) + " but model.num_classes is " + std::to_string(num_classes) +
                   " (give data.label_names to map segments by SegmentLabel)");
  }
}

}  // namespace

torch::Tensor read_seg_labels(const std::string& seg, const SeriesVolume& series,
                              const std::vector<std::string>& label_names) {
  return seg_labels(seg, series, label_names, true);
}

torch::Tensor read_image_mask(const std::string& path, const std::string& image_path, int64_t num_classes,
                              const std::vector<std::string>& label_names) {
  if (!is_dicom_seg(path)) return read_mask(path, false, num_classes);
  const DicomImageInfo info = read_dicom_info(image_path);
  SeriesVolume one;  // the image as a one-slice series: only its grid and identity are used
  one.files = {image_path};
  one.voxels = torch::empty({1, info.rows, info.cols}, torch::kFloat32);
  one.origin = info.image_position.value_or(std::array<double, 3>{0, 0, 0});
  one.orientation = info.image_orientation.value_or(std::array<double, 6>{1, 0, 0, 0, 1, 0});
  const std::array<double, 2> pixel = info.pixel_spacing.value_or(std::array<double, 2>{1, 1});
  one.spacing = {1.0, pixel[0], pixel[1]};
  torch::Tensor labels = seg_labels(path, one, label_names, false)[0];
  check_classes(path, labels, num_classes);
  return labels.contiguous();
}

torch::Tensor read_volume_mask(const std::string& path, const SeriesVolume& series, int64_t num_classes,
                               const std::vector<std::string>& label_names) {
  if (!is_dicom_seg(path)) return read_mask(path, true, num_classes);
  torch::Tensor labels = read_seg_labels(path, series, label_names);
  check_classes(path, labels, num_classes);
  return labels;
}

}  // namespace medtrain::data
