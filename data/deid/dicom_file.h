#pragma once
// Reading and writing DICOM files for de-identification: a Part 10 check before
// DCMTK parses anything, and atomic writes (temp name in the same folder, then
// rename) so that a crash never leaves a half-written file under its final name.
//
// Note [Durable at the end]: outputs are not fsynced one by one (an fsync costs
// 1-2 ms here, more than de-identifying the file); the run ends with one
// sync_filesystem() before it reports success. A crash before that may lose or
// truncate outputs already renamed into place, but never silently: the audit log
// holds each output's SHA-256, and a resumed run re-creates any output whose
// bytes do not match it (TreeRunner's resumable()).
#include <optional>
#include <string>

class DcmFileFormat;

namespace medtrain::data::deid {

// Loads `path` into `file` (large values stay on disk until written). Returns a
// one-line problem ("not a DICOM Part 10 file", "cannot read: ..."), without the
// path (callers add it where it may be shown), or nullopt on success. Messages
// never hold element values.
std::optional<std::string> load_dicom(const std::string& path, DcmFileFormat& file);

// Parses a whole Part 10 file already read into memory (one read serves both
// the audit hash and the parse). Same problems as load_dicom.
std::optional<std::string> parse_dicom(const std::string& bytes, DcmFileFormat& file);

// The whole file at `path` (a regular file, at most io::kMaxDicomBytes);
// DataError with the problem, without the path, when it cannot be read.
std::string read_file_bytes(const std::string& path);

// Writes `file` to root/rel (rel: '/'-separated, below the output root) in its
// original transfer syntax via rel.tmp-<pid>-<n> and renames it into place
// (durable after sync_filesystem: Note [Durable at the end]). Every folder below
// root is created and opened with O_NOFOLLOW (data/io/write_beneath.h): a link
// planted inside the output is an error, never a redirect. Returns the SHA-256
// (hex) of the bytes written. Throws DataError naming the path on failure.
std::string save_atomic(DcmFileFormat& file, const std::string& root, const std::string& rel);

// The same for bytes already in memory (quarantined originals, the summary).
void write_bytes_atomic(const std::string& root, const std::string& rel, const std::string& bytes);

// Whether `name` is one of the temporary names above (<name>.tmp-<pid>-<n>): a
// file left by a run that was killed between writing and renaming.
bool is_temp_name(const std::string& name);

// Removes every file below root named like a temporary (never following links
// into other folders) and returns how many. Call only while holding root's
// OutputLock: a live writer's temporary would be removed too.
long remove_stale_temps(const std::string& root);

// Flushes everything written to the file system holding `dir` (syncfs).
void sync_filesystem(const std::string& dir);

}  // namespace medtrain::data::deid
