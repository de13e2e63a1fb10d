#pragma once
// One multi-frame DICOM file as a 3D volume (the SeriesVolume a folder of
// slices gives), for the two kinds that are volumes by definition:
//
//  - RT Dose (Modality RTDOSE, or any file with GridFrameOffsetVector): the
//    dose grid in Gy (or the file's DoseUnits) = value * DoseGridScaling.
//    Frame k lies at offset o_k along the slice normal (PS3.3 C.8.8.3.2): when
//    o_0 is 0 the offsets are relative to ImagePositionPatient; otherwise they
//    are absolute z coordinates, which the standard allows only for axial
//    grids (ImageOrientationPatient 1\0\0\0\1\0; anything else is an error).
//  - Enhanced CT/MR (and any image with a Per-Frame Functional Groups
//    Sequence): each frame's ImagePositionPatient, ImageOrientationPatient,
//    PixelSpacing and RescaleSlope/Intercept from its functional groups, the
//    Shared Functional Groups as fallback (functional_groups.h). Each frame's
//    stored values get its own rescale.
//
// Frames are sorted along the normal as read_series_volume sorts slices, with
// the same checks: one orientation, distinct positions, gaps within 10% of the
// median (several stacks or time points in one file are an error, not mixed).
#include <string>

#include "data/dicom/multiframe_probe.h"  // is_multiframe_volume
#include "data/dicom/series_volume.h"

namespace medtrain::data {

struct MultiframeVolume {
  SeriesVolume volume;    // files = {path}
  std::string kind;       // "RT dose" or "enhanced multi-frame"
  std::string units;      // RT dose: DoseUnits (GY, RELATIVE); else empty
  double dose_grid_scaling = 1.0;
};

// Throws DataError naming the file: not a multi-frame volume (neither of the
// kinds above), a frame without position or orientation, frames in different
// orientations or at the same position, uneven gaps, an offset vector of the
// wrong length, a DoseGridScaling that is not a finite positive number, and
// any decoding error of read_dicom_image.
MultiframeVolume read_multiframe_volume(const std::string& path);

}  // namespace medtrain::data
