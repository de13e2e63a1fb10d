#pragma once
// The audit trail of a deid run: deid_audit.jsonl in the output folder, one JSON
// record per input file and run, appended and flushed as each file finishes (so a
// killed run keeps the records of what it wrote). Records hold hashes, the
// pseudonym, tags and action letters, options and the tool version: never a value,
// never the input path (it may hold a name; records name it by a keyed path id).
#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace medtrain::data::deid {

inline constexpr const char* kAuditFileName = "deid_audit.jsonl";
inline constexpr const char* kSummaryFileName = "deid_summary.json";

struct PriorRecord {
  std::string input_sha256, output, output_sha256, settings_id;
};

// The "ok" records of earlier runs, by input id (the last one wins). A missing file
// is an empty map; a line that is not JSON throws DataError naming file:line.
std::map<std::string, PriorRecord> load_prior_records(const std::string& audit_path);

class AuditLog {
 public:
  explicit AuditLog(const std::string& path);
  void append(const nlohmann::json& record);  // thread-safe

 private:
  std::mutex mutex_;
  std::ofstream out_;
  std::string path_;
};

}  // namespace medtrain::data::deid
