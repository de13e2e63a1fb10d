#include "data/dicom/functional_groups.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <cmath>

#include "data/data_error.h"
#include "data/io/user_file.h"

namespace medtrain::data::detail {

DcmItem* frame_group(DcmItem* dataset, size_t frame, const DcmTagKey& group) {
  DcmItem* holder = nullptr;
  DcmItem* found = nullptr;
  if (dataset->findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, holder, static_cast<int>(frame)).good() &&
      holder != nullptr && holder->findAndGetSequenceItem(group, found, 0).good() && found != nullptr) {
    return found;
  }
  if (dataset->findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, holder, 0).good() && holder != nullptr &&
      holder->findAndGetSequenceItem(group, found, 0).good() && found != nullptr) {
    return found;
  }
  return nullptr;
}

size_t per_frame_items(DcmItem* dataset) {
  DcmSequenceOfItems* seq = nullptr;
  if (dataset->findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, seq).bad() || seq == nullptr) return 0;
  return seq->card();
}

template <size_t N>
std::optional<std::array<double, N>> get_doubles(DcmItem* item, const DcmTagKey& key, const std::string& path,
                                                 const char* name) {
  if (item == nullptr) return std::nullopt;
  std::array<double, N> out{};
  for (size_t i = 0; i < N; ++i) {
    Float64 v = 0;
    if (item->findAndGetFloat64(key, v, static_cast<unsigned long>(i)).bad()) return std::nullopt;
    if (!std::isfinite(v)) throw DataError(io::display_path(path) + ": " + name + " is not a finite number");
    out[i] = v;
  }
  return out;
}

template std::optional<std::array<double, 1>> get_doubles<1>(DcmItem*, const DcmTagKey&, const std::string&,
                                                             const char*);
template std::optional<std::array<double, 2>> get_doubles<2>(DcmItem*, const DcmTagKey&, const std::string&,
                                                             const char*);
template std::optional<std::array<double, 3>> get_doubles<3>(DcmItem*, const DcmTagKey&, const std::string&,
                                                             const char*);
template std::optional<std::array<double, 6>> get_doubles<6>(DcmItem*, const DcmTagKey&, const std::string&,
                                                             const char*);

std::string get_string(DcmItem* item, const DcmTagKey& key) {
  OFString s;
  if (item == nullptr || item->findAndGetOFStringArray(key, s).bad()) return "";
  return s.c_str();
}

FrameAttributes frame_attributes(DcmItem* ds, size_t frame, const std::string& path) {
  FrameAttributes a;
  a.position = get_doubles<3>(frame_group(ds, frame, DCM_PlanePositionSequence), DCM_ImagePositionPatient, path,
                              "ImagePositionPatient (0020,0032)");
  a.orientation = get_doubles<6>(frame_group(ds, frame, DCM_PlaneOrientationSequence), DCM_ImageOrientationPatient,
                                 path, "ImageOrientationPatient (0020,0037)");
  a.pixel_spacing =
      get_doubles<2>(frame_group(ds, frame, DCM_PixelMeasuresSequence), DCM_PixelSpacing, path, "PixelSpacing");
  DcmItem* transform = frame_group(ds, frame, DCM_PixelValueTransformationSequence);
  if (auto s = get_doubles<1>(transform, DCM_RescaleSlope, path, "RescaleSlope (0028,1053)")) a.slope = (*s)[0];
  if (auto i = get_doubles<1>(transform, DCM_RescaleIntercept, path, "RescaleIntercept (0028,1052)")) {
    a.intercept = (*i)[0];
  }
  return a;
}

}  // namespace medtrain::data::detail
