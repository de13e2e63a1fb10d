#pragma once
// Durable file operations. On POSIX a file's bytes are on disk only after
// fsync(file), and a new or renamed name survives a crash only after
// fsync(directory holding it); rename() within one directory/file system is
// atomic, so readers see the old or the new name's content, never a mix.
// Failures throw CheckpointError naming the path and the system's reason.
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace medtrain::checkpoint {

// Creates or truncates `path`, writes `bytes`, fsyncs it. The name itself is not
// durable until the directory is fsynced (fsync_directory).
void write_file_synced(const std::filesystem::path& path, std::string_view bytes);

// write_file_synced to `path`.tmp-<pid> (created afresh: O_EXCL | O_NOFOLLOW
// after removing a leftover), rename over `path`, fsync the directory. A
// symbolic link at `path` is replaced by the file, not written through.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

void fsync_directory(const std::filesystem::path& dir);

// Points the symlink `link` at `target` (stored as given, e.g. relative)
// atomically: a new symlink `link`.tmp-<pid> renamed over `link`, then the
// directory fsynced. Readers see the old or the new target, never no link.
void replace_symlink(const std::filesystem::path& link, const std::filesystem::path& target);

// The whole file; throws CheckpointError when it cannot be read.
std::string read_file(const std::filesystem::path& path);

}  // namespace medtrain::checkpoint
