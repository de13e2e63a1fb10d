#pragma once
// The checks before writing one file a user names with a flag (report --out,
// inspect --png), made before any work so that a mistyped name fails at once
// with its own message. The file is then written to a temporary name beside it
// and renamed over it (trainer/checkpoint/atomic_file.h). What may stand at
// that name is refused unless it is a regular file, which is then replaced:
//   - a symbolic link: renaming over it would replace the link, and as root
//     `--out /dev/stdout` would replace the system's /dev/stdout; writing
//     through it would write outside what was named;
//   - a FIFO, device or socket: renaming over it would replace a special file,
//     and opening it to write would block until a reader came;
//   - a folder (also through a link): "is a folder".
#include <filesystem>
#include <string>

namespace medtrain::data::io {

// Throws DataError("<flag> <path>: ...") when the folder holding `path` does
// not exist, or when `path` exists and is not a regular file (a link to a
// folder is named as a folder, any other link as a link). `noun` names the
// file in the messages ("HTML", "PNG").
void check_output_file(const std::string& path, const std::string& flag, const std::string& noun);

// Whether a and b name one existing file (symbolic links resolved; hard links
// to one file count as the same): an output that is one of the command's own
// inputs would replace it. False when either does not exist.
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace medtrain::data::io
