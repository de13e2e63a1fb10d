#pragma once
// Writes that survive a crash: temp name, fsync, rename, fsync the folder.
// (trainer/checkpoint/atomic_file.h does the same for checkpoints; data/ may not
// include trainer/.) Failures throw DataError naming the path and errno's text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace medtrain::data::shard {

// `path` + ".tmp": the temp name a writer uses, so a re-run can find leftovers.
std::string temp_name(const std::string& path);
// Writes `bytes` to temp_name(path), fsyncs, renames over `path`, fsyncs the folder.
void write_file_atomic(const std::string& path, std::string_view bytes);
// write(2) until all `n` bytes are written (EINTR retried); DataError naming `path`.
void write_all(int fd, const char* p, size_t n, const std::string& path);
// rename(temp_name(path), path) + fsync of the folder.
void commit_temp(const std::string& path);
// rename(tmp, path) + fsync of the folder.
void commit_temp(const std::string& tmp, const std::string& path);

}  // namespace medtrain::data::shard
