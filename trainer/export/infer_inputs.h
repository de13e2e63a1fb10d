#pragma once
// What `medtrain infer --in PATH` means by PATH:
//   a file ending in .csv  a manifest: a header with a `path` column (other
//                          columns, e.g. label, ignored); relative paths are
//                          relative to the manifest's folder
//   any other file         that one DICOM file
//   a folder               every regular file below it, recursively, sorted by
//                          path (files that turn out not to be DICOM are
//                          handled by --on-error)
#include <filesystem>
#include <string>
#include <vector>

namespace medtrain::exporter {

// Paths in a stable order. UserError naming PATH (and the manifest line) when
// it does not exist, a folder holds no files, or a manifest row is malformed.
std::vector<std::string> collect_inputs(const std::filesystem::path& in);

// For volume models (bundle depth > 0): series folders instead of files.
//   a manifest .csv   its path column names series folders
//   a folder          every folder at or below it that directly holds files
//                     (one series each), sorted by path
std::vector<std::string> collect_series(const std::filesystem::path& in);

// Why PATH is a volume, for a 2D bundle to refuse it; empty when it is not:
//   a folder that directly holds the slices of one series (its first two
//   files: one Series Instance UID, different Image Position Patient), or
//   one multi-frame file with a frame geometry (enhanced CT/MR, RT dose).
// Only headers are read; files that are not DICOM make it "not a volume".
std::string volume_input_reason(const std::filesystem::path& in);

}  // namespace medtrain::exporter
