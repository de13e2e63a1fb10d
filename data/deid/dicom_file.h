#pragma once
// Reading and writing DICOM files for de-identification: a Part 10 check before
// DCMTK parses anything, and atomic writes (temp name in the same folder, fsync,
// rename) so that a crash never leaves a half-written file under its final name.
#include <optional>
#include <string>

class DcmFileFormat;

namespace medtrain::data::deid {

// Loads `path` into `file` (large values stay on disk until written). Returns a
// one-line problem ("not a DICOM Part 10 file", "cannot read: ..."), without the
// path (callers add it where it may be shown), or nullopt on success. Messages
// never hold element values.
std::optional<std::string> load_dicom(const std::string& path, DcmFileFormat& file);

// Writes `file` to `path` in its original transfer syntax via `path`.tmp-<unique>,
// fsyncs it, renames it into place and fsyncs the folder. Returns the SHA-256 (hex)
// of the bytes written. Throws DataError naming the path on failure.
std::string save_atomic(DcmFileFormat& file, const std::string& path);

}  // namespace medtrain::data::deid
