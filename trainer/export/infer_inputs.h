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

// Why the file PATH is a volume, for a 2D bundle to refuse it (it would see
// only the first frame); empty when it is not: one multi-frame file with a
// frame geometry (enhanced CT/MR, RT dose). Only the header is read. A folder
// is never refused: 2D models are trained on slices, and a series folder
// given to one predicts each slice.
std::string volume_input_reason(const std::filesystem::path& in);

}  // namespace medtrain::exporter
