#pragma once
// manifest.json of a checkpoint directory:
//   {"format": "medtrain-checkpoint/1",
//    "files": {"model.safetensors": {"sha256": "<64 hex>", "size": 1234}, ...}}
// It is written last, so a directory with a parseable manifest was complete
// when it was written; the checksums catch what changed afterwards.
#include <cstdint>
#include <map>
#include <string>

namespace medtrain::checkpoint {

constexpr const char* kManifestFormat = "medtrain-checkpoint/1";
constexpr const char* kManifestFile = "manifest.json";

struct ManifestEntry {
  std::string sha256;  // lower-case hex
  uint64_t size = 0;
};

using Manifest = std::map<std::string, ManifestEntry>;  // file name -> entry

std::string manifest_json(const Manifest& manifest);

// `where` prefixes errors ("checkpoint <dir>"). Rejects bad JSON, a wrong
// format, and file names that are not plain names inside the directory.
Manifest parse_manifest(const std::string& text, const std::string& where);

}  // namespace medtrain::checkpoint
