#include "data/io/raw_file_dataset.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "data/data_error.h"
#include "data/io/page_cache.h"

namespace medtrain::data::io {

RawFileDataset::RawFileDataset(std::vector<FileEntry> files, bool drop_caches)
    : files_(std::move(files)), drop_caches_(drop_caches) {}

Sample RawFileDataset::get(size_t index, uint64_t) const {
  const std::string& path = files_.at(index).path;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw DataError("cannot open '" + path + "': " + std::strerror(errno));
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<unsigned char> buf(4u << 20);
  uint64_t sum = 0;
  for (;;) {
    const ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      throw DataError("cannot read '" + path + "': " + std::strerror(err));
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n; i += 512) sum += buf[static_cast<size_t>(i)];  // touch every page
  }
  if (drop_caches_) drop_cached_pages(fd);
  close(fd);
  Sample s;
  s.image = torch::full({1, 1, 1}, static_cast<float>(sum % 251) / 251.0f);
  s.target = torch::zeros({}, torch::kInt64);
  return s;
}

}  // namespace medtrain::data::io
