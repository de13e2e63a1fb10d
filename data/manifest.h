#pragma once
// The CSV manifest that names samples and their targets:
//
//   path,label,labels,mask,patient_id,split     <- header required
//   images/P0001/slice_001.dcm,1,lesion_left,masks/P0001/slice_001.npy,P0001,train
//
// path is required, and at least one target column:
//   label   class index >= 0 (multiclass)
//   labels  findings present, joined by '|' (multilabel, as in NIH ChestX-ray14's
//           "Finding Labels"): names from label_names or indices; empty = none
//   mask    a segmentation mask file, relative to the root like path: .npy
//           (integer array, H x W or D x H x W) or DICOM (stored values)
// patient_id and split are optional columns, extra columns are ignored, fields
// may be double-quoted ("a,b" and "say ""hi"""), blank lines are skipped.
// Everything is checked when the manifest is opened, so that a bad row stops a
// run before training starts, with the manifest path and line in the message.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data {

// Multilabel targets are bit sets, so a shard index entry can hold one.
inline constexpr size_t kMaxLabels = 63;

struct ManifestRow {
  std::string path;        // as written, relative to the root (or absolute)
  int64_t label = 0;       // >= 0; 0 when the manifest has no label column
  uint64_t labels = 0;     // bit i set = finding i present (labels column)
  std::string mask;        // mask file, as written; empty without a mask column
  std::string patient_id;  // empty when the column is absent
  std::string split;       // empty when the column is absent
  size_t line = 0;         // 1-based line in the manifest, for messages
};

struct ManifestOptions {
  std::string manifest_path;
  std::string root;         // file paths are relative to it; empty = the manifest's folder
  std::string split;        // keep only rows of this split (none when the manifest
                            // has no split column); empty = all rows
  bool check_files = true;  // every referenced file must exist (masks too)
  bool paths_are_folders = false;  // path names a series folder (3D), not a file
  // Names the labels column may use (index = bit); indices work without them.
  std::vector<std::string> label_names;
};

struct Manifest {
  std::string manifest_path;
  std::string root;               // resolved root
  std::vector<ManifestRow> rows;  // after the split filter, in file order; may be empty
  bool has_label = false, has_labels = false, has_mask = false;  // target columns present
};

// Throws DataError naming the manifest and line: unreadable file, missing header
// column, wrong field count, unterminated quote, empty path, bad label, unknown
// or out-of-range name in labels, empty mask, duplicate path, missing file or
// mask, a patient in two splits, no data rows at all. All rows are checked,
// whatever the split filter.
Manifest read_manifest(const ManifestOptions& options);

// Splits one CSV line into fields (RFC 4180 quoting, no embedded newlines).
// Throws DataError("unterminated quote") on a malformed line.
std::vector<std::string> split_csv_line(const std::string& line);

}  // namespace medtrain::data
