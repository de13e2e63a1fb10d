#include "trainer/metrics/jsonl_writer.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "trainer/user_error.h"

namespace medtrain::metrics {

JsonlWriter::JsonlWriter(const std::filesystem::path& path) : path_(path) {
  out_.open(path, std::ios::out | std::ios::app);
  if (!out_) {
    throw UserError("metrics log " + path.string() +
                    ": cannot open for appending: " + std::strerror(errno));
  }
}

void JsonlWriter::write(const nlohmann::json& record) {
  // One object per line keeps the file greppable and loadable with
  // pandas.read_json(lines=True); anything else would break those readers.
  if (!record.is_object()) {
    throw std::invalid_argument("metrics log " + path_.string() +
                                ": a record must be a JSON object, got " + record.type_name());
  }
  // dump() escapes newlines inside strings, so a record is always one line.
  // Non-finite floats become null (JSON has no NaN).
  out_ << record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  out_.flush();
  if (!out_) {
    throw std::runtime_error("metrics log " + path_.string() + ": write failed (" +
                             std::strerror(errno) + ")");
  }
}

}  // namespace medtrain::metrics
