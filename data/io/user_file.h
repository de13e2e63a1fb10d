#pragma once
// One guarded way to open files a user names (configs, manifests, model cards,
// trainer state, keys, DICOM): only regular files are opened (a FIFO, a device
// such as /dev/zero or a folder is refused before any read, so nothing blocks
// or reads without end), sizes are capped per kind, and paths shown in messages
// are shortened so that a hostile 1 MB path never becomes a 1 MB error line.
// Writes go through write_beneath.h. Thread-safe; no state.
#include <cstdint>
#include <string>

namespace medtrain::data::io {

// Size caps per kind of file: generous for real use, far below memory.
inline constexpr uint64_t kMaxConfigBytes = 4ull << 20;       // YAML configs and bases
inline constexpr uint64_t kMaxManifestBytes = 2ull << 30;     // CSV/JSONL manifests
inline constexpr uint64_t kMaxSmallJsonBytes = 16ull << 20;   // trainer_state.json, manifest.json, model.yaml
inline constexpr uint64_t kMaxKeyBytes = 64ull << 10;         // deid key files
inline constexpr uint64_t kMaxDicomBytes = 8ull << 30;        // one DICOM object

// `path` as it may appear in a one-line message: at most ~160 bytes (the start
// and the end kept, the middle elided), control characters replaced.
std::string display_path(const std::string& path);

// Throws DataError("<what> <path>: not a regular file (a FIFO)") unless `path`
// is a regular file (symbolic links followed) no larger than `max_bytes`.
// Never blocks on a FIFO. Returns the size.
uint64_t check_regular_file(const std::string& path, const std::string& what, uint64_t max_bytes);

// The whole file, after check_regular_file; reads at most max_bytes even if the
// file grows meanwhile (DataError then). A transient failure (an open or read
// failing with EIO, ESTALE, EAGAIN; fewer bytes than the size fstat gave) throws
// io::TransientReadError (data/io/read_retry.h), which callers may retry.
std::string read_user_file(const std::string& path, const std::string& what, uint64_t max_bytes);

// A name that becomes one path component (a run name, a pseudonym folder): not
// empty, not "." or "..", no '/', no NUL or control character, at most 255
// bytes. Throws DataError("<what> \"<name>\": ...").
void check_path_component(const std::string& name, const std::string& what);

}  // namespace medtrain::data::io
