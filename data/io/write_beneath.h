#pragma once
// Writing inside an output root without ever leaving it: every folder between
// the root and the file is opened with O_NOFOLLOW (openat, one component at a
// time), so a symbolic link planted inside the output folder (say, named like
// the next run's pseudonym folder) is an error, not a redirect. The root itself
// may be a link (the user named it); nothing below it may be.
#include <string>

namespace medtrain::data::io {

// Creates root/rel_dir (rel_dir: '/'-separated, relative, no "." or ".."),
// refusing a symbolic link or non-folder at any level below root. Throws
// DataError naming the offending path.
void make_dirs_beneath(const std::string& root, const std::string& rel_dir);

// A descriptor (O_RDONLY | O_DIRECTORY) of root/rel_dir, created as by
// make_dirs_beneath, for openat/renameat inside it; the caller closes it.
int open_dir_beneath(const std::string& root, const std::string& rel_dir);

// Opens root/rel_file for writing with O_NOFOLLOW after make_dirs_beneath of its
// folder. `flags` adds to O_WRONLY | O_CLOEXEC | O_NOFOLLOW (e.g. O_CREAT |
// O_EXCL, or O_CREAT | O_APPEND). Returns the descriptor (the caller closes it);
// DataError when the file is a link or cannot be opened.
int open_beneath(const std::string& root, const std::string& rel_file, int flags, int mode = 0644);

}  // namespace medtrain::data::io
