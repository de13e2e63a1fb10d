#pragma once
// How much of a file the kernel's page cache already holds, and a request to
// evict it. A benchmark that reads cached pages measures RAM, not the NAS: we
// measure residency before reading and say so in the report.
#include <optional>
#include <string>
#include <vector>

#include "data/io/file_survey.h"

namespace medtrain::data::io {

// Share of the file's pages resident in the page cache (0..1), from mincore(2).
// nullopt when it cannot be known (the file cannot be mapped: FUSE direct_io
// files and some network file systems).
std::optional<double> cached_fraction(const std::string& path);

// Byte-weighted residency over up to `max_files` of `files`; nullopt when no
// file could be inspected.
std::optional<double> cached_fraction(const std::vector<FileEntry>& files, size_t max_files = 256);

// posix_fadvise(DONTNEED) on the whole file: asks the kernel to drop its clean
// cached pages. Best effort (a network client may keep its own cache); returns
// whether the call succeeded.
bool drop_cached_pages(const std::string& path);
bool drop_cached_pages(int fd);

}  // namespace medtrain::data::io
