#include "data/deid/dicom_file.h"

#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcwcache.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "data/data_error.h"
#include "data/deid/keyed.h"

namespace fs = std::filesystem;

namespace medtrain::data::deid {
namespace {

bool has_part10_marker(const char* head, size_t n) { return n >= 132 && std::memcmp(head + 128, "DICM", 4) == 0; }

constexpr const char* kNotPart10 = "not a DICOM Part 10 file (no DICM marker at byte 128)";

}  // namespace

std::optional<std::string> load_dicom(const std::string& path, DcmFileFormat& file) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("cannot read: {}", std::strerror(errno));
  char head[132] = {};
  in.read(head, sizeof(head));
  if (!has_part10_marker(head, static_cast<size_t>(in.gcount()))) return std::string(kNotPart10);
  const OFCondition st = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_fileOnly);
  if (st.bad()) return fmt::format("cannot parse DICOM: {}", st.text());
  return std::nullopt;
}

std::optional<std::string> parse_dicom(const std::string& bytes, DcmFileFormat& file) {
  if (!has_part10_marker(bytes.data(), bytes.size())) return std::string(kNotPart10);
  DcmInputBufferStream stream;
  stream.setBuffer(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  stream.setEos();
  file.transferInit();
  const OFCondition st = file.read(stream, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  file.transferEnd();
  if (st.bad()) return fmt::format("cannot parse DICOM: {}", st.text());
  return std::nullopt;
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw DataError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::string bytes(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw DataError(fmt::format("cannot read {}: I/O error", path));
  return bytes;
}

void sync_filesystem(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) throw DataError(fmt::format("cannot open {} to sync it: {}", dir, std::strerror(errno)));
  const int rc = ::syncfs(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw DataError(fmt::format("cannot sync the file system of {}: {}", dir, std::strerror(err)));
}

namespace {

// The Part 10 bytes saveFile() would write (same transfer syntax, encoding and
// new meta header), in memory: hashed there, written with one write().
std::string serialize(DcmFileFormat& file, const std::string& path) {
  const E_TransferSyntax xfer = file.getDataset()->getOriginalXfer();
  std::vector<char> chunk(1 << 16);
  DcmOutputBufferStream stream(chunk.data(), static_cast<offile_off_t>(chunk.size()));
  DcmWriteCache cache;
  std::string bytes;
  auto drain = [&] {
    void* data = nullptr;
    offile_off_t n = 0;
    stream.flushBuffer(data, n);
    bytes.append(static_cast<const char*>(data), static_cast<size_t>(n));
  };
  file.transferInit();
  OFCondition st;
  do {
    st = file.write(stream, xfer, EET_UndefinedLength, &cache, EGL_recalcGL, EPD_noChange, 0, 0, 0,
                    EWM_createNewMeta);
    drain();
  } while (st == EC_StreamNotifyClient);
  file.transferEnd();
  stream.flush();
  drain();
  if (st.bad()) throw DataError(fmt::format("cannot encode {}: {}", path, st.text()));
  return bytes;
}

void write_all(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw DataError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      throw DataError(fmt::format("cannot write {}: {}", path, std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) throw DataError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
}

}  // namespace

std::string save_atomic(DcmFileFormat& file, const std::string& path) {
  static std::atomic<unsigned long> counter{0};
  const fs::path target(path);
  fs::create_directories(target.parent_path());
  const std::string bytes = serialize(file, path);
  const std::string tmp = fmt::format("{}.tmp-{}-{}", path, ::getpid(), counter++);
  try {
    write_all(tmp, bytes);
  } catch (...) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw DataError(fmt::format("cannot rename {} to {}: {}", tmp, path, std::strerror(err)));
  }
  return sha256_bytes(bytes.data(), bytes.size());
}

}  // namespace medtrain::data::deid
