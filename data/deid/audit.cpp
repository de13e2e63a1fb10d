#include "data/deid/audit.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/io/write_beneath.h"

namespace fs = std::filesystem;

namespace medtrain::data::deid {
namespace {

// The log's bytes, read without following a link (O_NOFOLLOW) or blocking on a FIFO.
bool read_log(const std::string& path, std::string& bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return false;
    throw DataError(fmt::format("audit log {}: {}", io::display_path(path),
                                err == ELOOP ? "is a symbolic link; medtrain never writes through links (remove it)"
                                             : std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw DataError(fmt::format("audit log {}: not a regular file", io::display_path(path)));
  }
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw DataError(fmt::format("audit log {}: cannot read: {}", io::display_path(path), std::strerror(err)));
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

}  // namespace

std::vector<nlohmann::json> read_audit_records(const std::string& dir) {
  const std::string path = (fs::path(dir) / kAuditFileName).string();
  std::vector<nlohmann::json> records;
  std::string bytes;
  if (!read_log(path, bytes)) return records;
  size_t start = 0;
  int line_no = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    const bool last = end == std::string::npos;
    if (last) end = bytes.size();
    ++line_no;
    const std::string line = bytes.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    try {
      records.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
      // A run killed mid-write can leave a torn last line; anything else is damage.
      if (last || bytes.find_first_not_of('\n', start) == std::string::npos) break;
      throw DataError(fmt::format("{}:{}: not a JSON record (move the file away to re-process everything)",
                                  io::display_path(path), line_no));
    }
  }
  return records;
}

std::map<std::string, nlohmann::json> latest_by_input(const std::vector<nlohmann::json>& records) {
  std::map<std::string, nlohmann::json> latest;
  for (const auto& r : records) {
    if (r.is_object()) latest[r.value("input_id", "")] = r;
  }
  return latest;
}

std::map<std::string, PriorRecord> load_prior_records(const std::string& dir) {
  std::map<std::string, PriorRecord> prior;
  for (const auto& [id, j] : latest_by_input(read_audit_records(dir))) {
    if (j.value("status", "") != "ok") continue;
    prior[id] = {j.value("input_sha256", ""), j.value("output", ""), j.value("output_sha256", ""),
                 j.value("settings_id", "")};
  }
  return prior;
}

std::vector<std::string> shared_outputs(const std::vector<nlohmann::json>& records) {
  std::map<std::string, std::set<std::string>> claims;  // output -> input ids
  for (const auto& [id, j] : latest_by_input(records)) {
    if (j.value("status", "") == "ok") claims[j.value("output", "")].insert(id);
  }
  std::vector<std::string> problems;
  for (const auto& [output, ids] : claims) {
    if (ids.size() < 2) continue;
    std::string names;
    for (const auto& id : ids) names += (names.empty() ? "" : ", ") + id;
    problems.push_back(fmt::format("output {} is named by {} inputs ({}): one overwrote the other; re-run deid on "
                                   "this folder (it keeps one and quarantines the others)",
                                   output, ids.size(), names));
  }
  return problems;
}

std::map<std::string, std::string> report_outputs(const std::vector<nlohmann::json>& records) {
  std::map<std::string, std::string> outputs;
  for (const auto& [id, j] : latest_by_input(records)) {
    if (j.value("status", "") == "ok" && j.value("kind", "") == "report") {
      outputs[j.value("output", "")] = j.value("output_sha256", "");
    }
  }
  return outputs;
}

AuditLog::AuditLog(const std::string& dir, const std::string& name) : path_((fs::path(dir) / name).string()) {
  fd_ = io::open_beneath(dir, name, O_CREAT | O_APPEND);  // DataError naming a link
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AuditLog::append(const nlohmann::json& record) {
  const std::string line = record.dump() + "\n";
  std::lock_guard<std::mutex> lock(mutex_);
  struct stat before {};
  const bool sized = ::fstat(fd_, &before) == 0;
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      // A full disk can take half a record: cut it off again, so that a record
      // another worker appends once space is back (a removed temporary frees
      // some) does not follow a torn line, which the next run would call damage.
      if (sized && done > 0 && ::ftruncate(fd_, before.st_size) != 0) {
        throw DataError(fmt::format("cannot write the audit log {} ({}), and cannot cut off the torn record: {}",
                                    io::display_path(path_), std::strerror(err), std::strerror(errno)));
      }
      throw DataError(fmt::format("cannot write the audit log {}: {}", io::display_path(path_), std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace medtrain::data::deid
