#include "data/io/page_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace medtrain::data::io {

namespace {

struct ResidentPages {
  size_t resident = 0;
  size_t total = 0;
};

std::optional<ResidentPages> resident_pages(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  std::optional<ResidentPages> out;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    const size_t len = static_cast<size_t>(st.st_size);
    void* map = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
      std::vector<unsigned char> vec((len + page - 1) / page);
      if (mincore(map, len, vec.data()) == 0) {
        ResidentPages r;
        r.total = vec.size();
        r.resident = static_cast<size_t>(std::count_if(vec.begin(), vec.end(), [](unsigned char c) { return c & 1; }));
        out = r;
      }
      munmap(map, len);
    }
  }
  close(fd);
  return out;
}

}  // namespace

std::optional<double> cached_fraction(const std::string& path) {
  auto r = resident_pages(path);
  if (!r || r->total == 0) return std::nullopt;
  return static_cast<double>(r->resident) / static_cast<double>(r->total);
}

std::optional<double> cached_fraction(const std::vector<FileEntry>& files, size_t max_files) {
  size_t resident = 0, total = 0;
  for (size_t i = 0; i < files.size() && i < max_files; ++i) {
    if (auto r = resident_pages(files[i].path)) resident += r->resident, total += r->total;
  }
  if (total == 0) return std::nullopt;
  return static_cast<double>(resident) / static_cast<double>(total);
}

bool drop_cached_pages(int fd) { return posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0; }

bool drop_cached_pages(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = drop_cached_pages(fd);
  close(fd);
  return ok;
}

}  // namespace medtrain::data::io
