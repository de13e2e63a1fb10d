#include "data/deid/audit.h"

#include <fmt/format.h>

#include "data/data_error.h"

namespace medtrain::data::deid {

std::map<std::string, PriorRecord> load_prior_records(const std::string& audit_path) {
  std::map<std::string, PriorRecord> prior;
  std::ifstream in(audit_path);
  if (!in) return prior;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      // A run killed mid-write can leave a torn last line; anything else is damage.
      if (in.peek() == EOF) break;
      throw DataError(fmt::format("{}:{}: not a JSON record (move the file away to re-process everything)",
                                  audit_path, line_no));
    }
    if (j.value("status", "") != "ok") continue;
    prior[j.value("input_id", "")] = {j.value("input_sha256", ""), j.value("output", ""), j.value("output_sha256", ""),
                                      j.value("settings_id", "")};
  }
  return prior;
}

AuditLog::AuditLog(const std::string& path) : out_(path, std::ios::app), path_(path) {
  if (!out_) throw DataError(fmt::format("cannot open the audit log {} for appending", path));
}

void AuditLog::append(const nlohmann::json& record) {
  const std::string line = record.dump() + "\n";
  std::lock_guard<std::mutex> lock(mutex_);
  out_ << line;
  out_.flush();
  if (!out_) throw DataError(fmt::format("cannot write the audit log {}", path_));
}

}  // namespace medtrain::data::deid
