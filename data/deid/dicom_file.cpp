#include "data/deid/dicom_file.h"

#include <dcmtk/dcmdata/dcfilefo.h>
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
#include "data/dicom/dicom_depth_check.h"
#include "data/dicom/dicom_guarded_read.h"
#include "data/io/user_file.h"
#include "data/io/write_beneath.h"

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
  if (auto problem = check_sequence_depth_file(path)) return problem;  // Note [Nesting before parsing]
  const OFCondition st = load_dicom_guarded(file, path, ERM_fileOnly);  // Note [Stack budget]
  if (st.bad()) return fmt::format("cannot parse DICOM: {}", st.text());
  return std::nullopt;
}

std::optional<std::string> parse_dicom(const std::string& bytes, DcmFileFormat& file) {
  if (!has_part10_marker(bytes.data(), bytes.size())) return std::string(kNotPart10);
  if (auto problem = check_sequence_depth(bytes.data(), bytes.size())) return problem;
  const OFCondition st = read_dicom_guarded(file, bytes.data(), bytes.size());  // Note [Stack budget]
  if (st.bad()) return fmt::format("cannot parse DICOM: {}", st.text());
  return std::nullopt;
}

std::string read_file_bytes(const std::string& path) {
  // A FIFO or device is refused, not read. The reason goes to the audit log and
  // to messages that name the file by its input id: the path is cut off.
  const std::string prefix = "input " + io::display_path(path) + ": ";
  try {
    return io::read_user_file(path, "input", io::kMaxDicomBytes);
  } catch (const DataError& e) {
    const std::string what = e.what();
    throw DataError(what.rfind(prefix, 0) == 0 ? "cannot read: " + what.substr(prefix.size()) : "cannot read the file");
  }
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

void write_fd(int fd, const std::string& shown, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      throw DataError(fmt::format("cannot write {}: {}", shown, std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) throw DataError(fmt::format("cannot write {}: {}", shown, std::strerror(errno)));
}

// Splits "a/b/c.dcm" into "a/b" and "c.dcm".
std::pair<std::string, std::string> split_rel(const std::string& rel) {
  const size_t slash = rel.rfind('/');
  if (slash == std::string::npos) return {"", rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

}  // namespace

void write_bytes_atomic(const std::string& root, const std::string& rel, const std::string& bytes) {
  static std::atomic<unsigned long> counter{0};
  const auto [dir_rel, name] = split_rel(rel);
  const std::string shown = io::display_path((fs::path(root) / rel).string());
  const int dir = io::open_dir_beneath(root, dir_rel);
  const std::string tmp = fmt::format("{}.tmp-{}-{}", name, ::getpid(), counter++);
  const int fd = ::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    ::close(dir);
    throw DataError(fmt::format("cannot create {}.tmp-*: {}", shown, std::strerror(err)));
  }
  try {
    write_fd(fd, shown, bytes);
  } catch (...) {
    ::unlinkat(dir, tmp.c_str(), 0);
    ::close(dir);
    throw;
  }
  // renameat replaces a link of the final name, never writes through it.
  if (::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) {
    const int err = errno;
    ::unlinkat(dir, tmp.c_str(), 0);
    ::close(dir);
    throw DataError(fmt::format("cannot rename a temporary file to {}: {}", shown, std::strerror(err)));
  }
  ::close(dir);
}

std::string save_atomic(DcmFileFormat& file, const std::string& root, const std::string& rel) {
  const std::string bytes = serialize(file, (fs::path(root) / rel).string());
  write_bytes_atomic(root, rel, bytes);
  return sha256_bytes(bytes.data(), bytes.size());
}

bool is_temp_name(const std::string& name) {
  // <name>.tmp-<digits>-<digits>
  const size_t at = name.rfind(".tmp-");
  if (at == std::string::npos || at == 0) return false;
  const std::string tail = name.substr(at + 5);
  const size_t dash = tail.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == tail.size()) return false;
  for (size_t i = 0; i < tail.size(); ++i) {
    if (i != dash && (tail[i] < '0' || tail[i] > '9')) return false;
  }
  return true;
}

long remove_stale_temps(const std::string& root) {
  long removed = 0;
  std::error_code ec;
  // The iterator does not follow directory links: nothing outside root is touched.
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!is_temp_name(it->path().filename().string())) continue;
    if (!it->is_symlink() && !it->is_regular_file()) continue;
    std::error_code rm;
    if (fs::remove(it->path(), rm)) ++removed;
    if (rm) {
      throw DataError(fmt::format("cannot remove the stale temporary file {}: {}", io::display_path(it->path().string()),
                                  rm.message()));
    }
  }
  if (ec) throw DataError(fmt::format("cannot walk {}: {}", io::display_path(root), ec.message()));
  return removed;
}

}  // namespace medtrain::data::deid
