#pragma once
// The audit trail of a deid run: deid_audit.jsonl in the output folder, one JSON
// record per input file and run, appended and flushed as each file finishes (so a
// killed run keeps the records of what it wrote). Records hold hashes, the
// pseudonym, tags and action letters, options and the tool version: never a value,
// never the input path (it may hold a name; records name it by a keyed path id).
// The log is opened with O_NOFOLLOW | O_APPEND below the output root: a link
// named deid_audit.jsonl is refused, never appended to.
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace medtrain::data::deid {

inline constexpr const char* kAuditFileName = "deid_audit.jsonl";
inline constexpr const char* kSummaryFileName = "deid_summary.json";

struct PriorRecord {
  std::string input_sha256, output, output_sha256, settings_id;
};

// Every record of <dir>/deid_audit.jsonl, in order, or none when there is no
// log. A torn last line (a run killed mid-write) is dropped; any other line that
// is not JSON throws DataError naming file:line; a link is refused (DataError).
std::vector<nlohmann::json> read_audit_records(const std::string& dir);

// The latest record of each input id, by input id.
std::map<std::string, nlohmann::json> latest_by_input(const std::vector<nlohmann::json>& records);

// The "ok" records of earlier runs, by input id (the last record of each input
// decides: an input whose latest record is not "ok" has none).
std::map<std::string, PriorRecord> load_prior_records(const std::string& dir);

// Outputs that the latest "ok" records of two or more inputs name: the sign of
// one output overwriting another. One line per output, naming the input ids.
std::vector<std::string> shared_outputs(const std::vector<nlohmann::json>& records);

// The outputs of reports (records with "kind": "report") that the latest
// record of their input says were written ("ok"), each with its SHA-256.
std::map<std::string, std::string> report_outputs(const std::vector<nlohmann::json>& records);

class AuditLog {
 public:
  // Opens (creating) <dir>/<name> for appending; DataError when it is a link or
  // cannot be opened.
  explicit AuditLog(const std::string& dir, const std::string& name = kAuditFileName);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;
  void append(const nlohmann::json& record);  // thread-safe; one write(2) per record

 private:
  std::mutex mutex_;
  int fd_ = -1;
  std::string path_;
};

}  // namespace medtrain::data::deid
