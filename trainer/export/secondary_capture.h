#pragma once
// A picture derived from a DICOM image, written as a DICOM Secondary Capture
// in the source's study, so that a PACS viewer shows it beside the study
// (saliency heatmaps from `infer --saliency`).
#include <filesystem>
#include <string>

#include "trainer/metrics/raster_image.h"

namespace medtrain::exporter {

struct SecondaryCaptureInfo {
  std::string series_instance_uid;  // one per infer run and source series; generated when empty
  std::string series_description;   // e.g. "medtrain Grad-CAM (densenet121)"
  std::string derivation;           // Derivation Description: how the picture was made
  int series_number = 9000;
  int instance_number = 1;
};

// Writes `picture` (gray or RGB, 8-bit) to `out_file` as a Secondary Capture
// Image: Patient and General Study modules copied from `source_dicom`, a new
// series and SOP Instance UID, and Source Image Sequence / Referenced Image
// Sequence naming the source's SOP Class and Instance UIDs. Written to a
// temporary name and renamed. Throws std::runtime_error naming the file when
// the source cannot be read or the output written.
void write_secondary_capture(const std::filesystem::path& source_dicom, const metrics::RasterImage& picture,
                             const SecondaryCaptureInfo& info, const std::filesystem::path& out_file);

// The Series Instance UID of `source_dicom` (empty when it has none), for a
// caller that keeps one Secondary Capture series per source series. Throws
// data::DataError naming the file when it cannot be read.
std::string source_series_uid(const std::filesystem::path& source_dicom);

}  // namespace medtrain::exporter
