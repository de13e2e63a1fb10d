#include "data/deid/dicom_file.h"

#include <dcmtk/dcmdata/dcfilefo.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "data/data_error.h"
#include "data/deid/keyed.h"

namespace fs = std::filesystem;

namespace medtrain::data::deid {
namespace {

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) throw DataError(fmt::format("cannot open {} to sync it: {}", path, std::strerror(errno)));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw DataError(fmt::format("cannot sync {}: {}", path, std::strerror(err)));
}

}  // namespace

std::optional<std::string> load_dicom(const std::string& path, DcmFileFormat& file) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("cannot read: {}", std::strerror(errno));
  char head[132] = {};
  in.read(head, sizeof(head));
  if (in.gcount() < 132 || std::memcmp(head + 128, "DICM", 4) != 0) {
    return std::string("not a DICOM Part 10 file (no DICM marker at byte 128)");
  }
  const OFCondition st = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_fileOnly);
  if (st.bad()) return fmt::format("cannot parse DICOM: {}", st.text());
  return std::nullopt;
}

std::string save_atomic(DcmFileFormat& file, const std::string& path) {
  static std::atomic<unsigned long> counter{0};
  const fs::path target(path);
  fs::create_directories(target.parent_path());
  const std::string tmp = fmt::format("{}.tmp-{}-{}", path, ::getpid(), counter++);
  const OFCondition st = file.saveFile(tmp.c_str(), EXS_Unknown);
  if (st.bad()) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw DataError(fmt::format("cannot write {}: {}", path, st.text()));
  }
  fsync_path(tmp, O_RDONLY);
  const std::string sha = sha256_file(tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw DataError(fmt::format("cannot rename {} to {}: {}", tmp, path, std::strerror(err)));
  }
  fsync_path(target.parent_path().string(), O_RDONLY | O_DIRECTORY);
  return sha;
}

}  // namespace medtrain::data::deid
