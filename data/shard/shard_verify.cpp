#include "data/shard/shard_verify.h"

#include <chrono>
#include <filesystem>

#include "data/audio/speech_record.h"
#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/shard/digest.h"
#include "data/shard/shard_format.h"
#include "data/shard/shard_metadata.h"
#include "data/shard/shard_reader.h"
#include "data/text/text_record.h"

namespace medtrain::data::shard {

namespace {

// A label outside the classes the pack declares (metadata label_names, when it
// has them): the problem, or "" when the label is fine or nothing is declared.
std::string label_problem(int64_t label, const ShardMetadata& meta) {
  const auto n = static_cast<int64_t>(meta.label_names.size());
  if (n == 0 || meta.settings.target == "mask") return "";
  if (meta.settings.target == "multilabel") {
    if (n < 64 && (static_cast<uint64_t>(label) >> n) != 0) {
      return "labels name a finding past the " + std::to_string(n) + " label_names of metadata.json";
    }
    return "";
  }
  if (label < 0 || label >= n) {
    return "label " + std::to_string(label) + " is outside the " + std::to_string(n) +
           " classes of metadata.json's label_names (0.." + std::to_string(n - 1) + ")";
  }
  return "";
}

}  // namespace

VerifyReport verify_shards(const VerifyOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const ShardMetadata meta = read_metadata(o.dir);
  if (!meta.complete) {
    throw DataError(io::display_path((std::filesystem::path(o.dir) / kMetadataFile).string()) +
                    ": the pack is incomplete (\"complete\": false, " + std::to_string(meta.shards.size()) +
                    " shards written): `medtrain pack` was interrupted; re-run it with the same arguments to "
                    "finish the pack, then verify again");
  }
  VerifyReport report;
  for (const auto& info : meta.shards) {
    const std::string path = (std::filesystem::path(o.dir) / info.file).string();
    if (o.check_sha256 && sha256_file_hex(path) != info.sha256) {
      ++report.bad_files;
      report.problems.push_back(io::display_path(path) + ": SHA-256 differs from metadata.json");
    }
    const ShardReader reader(path);
    ++report.shards;
    report.bytes += reader.file_size();
    for (size_t first = 0; first < reader.size();) {
      size_t end = first + 1;
      uint64_t bytes = reader.entry(first).length;
      while (end < reader.size() && bytes + reader.entry(end).length <= o.block_bytes) bytes += reader.entry(end++).length;
      reader.prefetch(end, end - first);
      const Block block = reader.read_block(first, end - first);
      for (size_t i = first; i < end; ++i) {
        ++report.records;
        const std::string label = label_problem(reader.entry(i).label, meta);
        if (!label.empty()) {
          ++report.bad_records;
          report.problems.push_back(reader.where(i) + ": " + label);
          continue;
        }
        try {
          const uint8_t* p = reader.checked_record(block, i);
          if (o.decode && meta.settings.target == kTextPackTarget) {
            text::decode_text_record(p, reader.entry(i).length, reader.where(i));
          } else if (o.decode && meta.settings.target == kSpeechPackTarget) {
            audio::decode_speech_record(p, reader.entry(i).length, reader.where(i));
          } else if (o.decode) {
            decode_record(p, reader.entry(i).length, reader.where(i));
          }
        } catch (const DataError& e) {
          ++report.bad_records;
          report.problems.push_back(e.what());
        }
      }
      first = end;
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace medtrain::data::shard
