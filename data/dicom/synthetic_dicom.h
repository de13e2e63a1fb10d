#pragma once
// Writes a synthetic CT data set for demos and tests (`medtrain demo-data`):
// chest-like slices (see synthetic_phantom.h) stored as real DICOM CT images
// (16 bits allocated, 12 stored, unsigned, RescaleIntercept -1024, MONOCHROME2),
// cycling through the transfer syntaxes asked for, plus a manifest:
//
//   <out>/images/P0003/slice_012.dcm  ...
//   <out>/manifest.csv   header `path,label,patient_id,split`, paths relative to <out>
//
// label 1 = one round lesion in a lung, 0 = none. Splits are by patient (all
// slices of a patient are train or all are val). Options add the other target
// kinds (data/manifest.h):
//   multilabel  each lung gets a lesion independently (positive_fraction of the
//               slices each); column labels = right_lung_lesion|left_lung_lesion
//               (the lung on the image's left is the patient's right)
//   masks       <out>/masks/P0003/slice_012.npy, uint8 1 = lesion; column mask
//   volumes     one row per patient: path = its series folder images/P0003 (the
//               slices are contiguous, 2.5 mm apart), the lesion a sphere across
//               slices (positive_fraction of the patients), mask masks/P0003.npy
//               [slices, S, S] in the volume's order (along +z: the last
//               instance first, as data/dicom/series_volume.h orders the series)
// The slices of a patient form one series in every mode. Pixel data, labels, file names
// and the manifest are a pure function of the options; UIDs are freshly
// generated (dcmGenerateUniqueIdentifier) on every run, as DICOM requires.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data {

enum class TransferSyntax { kExplicitVrLittleEndian, kJpegLsLossless, kRleLossless };

// "explicit-le", "jpeg-ls", "rle" <-> the enum ("explicit" is accepted too);
// parse throws DataError listing the names.
std::string transfer_syntax_name(TransferSyntax syntax);
TransferSyntax parse_transfer_syntax(const std::string& name);
std::string transfer_syntax_uid(TransferSyntax syntax);

struct SyntheticOptions {
  std::string out_dir;           // created if missing; existing files are overwritten
  size_t count = 500;            // images
  uint64_t seed = 0;
  int64_t image_size = 256;      // rows = columns, 16..4096
  double positive_fraction = 0.5;  // exactly round(count * fraction) images get a lesion
  size_t patients = 50;          // 1..count; slices are split evenly among them
  double val_fraction = 0.2;     // share of patients in split "val" (>= 1 when > 0)
  bool multilabel = false;
  bool masks = false;
  bool volumes = false;
  std::vector<TransferSyntax> transfer_syntaxes = {TransferSyntax::kExplicitVrLittleEndian,
                                                   TransferSyntax::kJpegLsLossless,
                                                   TransferSyntax::kRleLossless};
};

struct SyntheticSummary {
  std::string manifest_path;
  size_t images = 0, positives = 0;
  size_t train_images = 0, val_images = 0;
  size_t train_patients = 0, val_patients = 0;
};

// Throws DataError for invalid options (naming the option) or a failed write
// (naming the file). Single-threaded; 500 images of 256x256 took 3.9 s on a
// busy 2-core machine.
SyntheticSummary write_synthetic_dataset(const SyntheticOptions& options);

}  // namespace medtrain::data
