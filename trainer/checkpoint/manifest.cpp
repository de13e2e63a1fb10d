#include "trainer/checkpoint/manifest.h"

#include <nlohmann/json.hpp>

#include "trainer/checkpoint/checkpoint.h"

namespace medtrain::checkpoint {
namespace {

using nlohmann::json;

bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A manifest must not reach outside its directory ("../x", "/etc/passwd").
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

}  // namespace

std::string manifest_json(const Manifest& manifest) {
  json files = json::object();
  for (const auto& [name, e] : manifest) files[name] = {{"sha256", e.sha256}, {"size", e.size}};
  return json{{"format", kManifestFormat}, {"files", files}}.dump(2) + "\n";
}

Manifest parse_manifest(const std::string& text, const std::string& where) {
  const std::string file = where + ": " + kManifestFile;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw CheckpointError(file + " is not valid JSON (truncated or corrupt?): " + e.what());
  }
  if (!j.is_object() || !j.contains("format") || !j.contains("files")) {
    throw CheckpointError(file + " lacks \"format\" or \"files\"; not a medtrain checkpoint manifest");
  }
  if (j["format"] != kManifestFormat) {
    throw CheckpointError(file + ": format " + j["format"].dump() + " is not \"" + kManifestFormat +
                          "\" (written by another version of medtrain?)");
  }
  if (!j["files"].is_object()) throw CheckpointError(file + ": \"files\" is not an object");
  Manifest out;
  for (const auto& [name, e] : j["files"].items()) {
    if (!is_plain_file_name(name)) {
      throw CheckpointError(file + ": entry \"" + name + "\" is not a plain file name");
    }
    if (!e.is_object() || !e.contains("sha256") || !e.contains("size") || !e["sha256"].is_string() ||
        !e["size"].is_number_unsigned() || !is_sha256_hex(e["sha256"].get<std::string>())) {
      throw CheckpointError(file + ": entry \"" + name + "\" is not {\"sha256\": <64 hex>, \"size\": <bytes>}");
    }
    out[name] = {e["sha256"].get<std::string>(), e["size"].get<uint64_t>()};
  }
  return out;
}

}  // namespace medtrain::checkpoint
