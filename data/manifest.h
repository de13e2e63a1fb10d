#pragma once
// The CSV manifest that names samples and labels:
//
//   path,label,patient_id,split          <- header required; path and label required
//   images/P0001/slice_001.dcm,1,P0001,train
//
// patient_id and split are optional columns, extra columns are ignored, fields
// may be double-quoted ("a,b" and "say ""hi"""), blank lines are skipped.
// Everything is checked when the manifest is opened, so that a bad row stops a
// run before training starts, with the manifest path and line in the message.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data {

struct ManifestRow {
  std::string path;        // as written, relative to the root (or absolute)
  int64_t label = 0;       // >= 0
  std::string patient_id;  // empty when the column is absent
  std::string split;       // empty when the column is absent
  size_t line = 0;         // 1-based line in the manifest, for messages
};

struct ManifestOptions {
  std::string manifest_path;
  std::string root;         // file paths are relative to it; empty = the manifest's folder
  std::string split;        // keep only rows of this split (none when the manifest
                            // has no split column); empty = all rows
  bool check_files = true;  // every referenced file must exist
};

struct Manifest {
  std::string manifest_path;
  std::string root;               // resolved root
  std::vector<ManifestRow> rows;  // after the split filter, in file order; may be empty
};

// Throws DataError naming the manifest and line: unreadable file, missing header
// column, wrong field count, unterminated quote, empty path, bad label, duplicate
// path, missing file, a patient in two splits, no data rows at all. All rows are
// checked, whatever the split filter.
Manifest read_manifest(const ManifestOptions& options);

// Splits one CSV line into fields (RFC 4180 quoting, no embedded newlines).
// Throws DataError("unterminated quote") on a malformed line.
std::vector<std::string> split_csv_line(const std::string& line);

}  // namespace medtrain::data
