#include "trainer/asr/audio_inputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <system_error>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "trainer/user_error.h"

namespace medtrain::asr {
namespace {

namespace fs = std::filesystem;
using data::DataError;
using data::io::display_path;

bool is_audio_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".wav" || ext == ".flac" || ext == ".ogg" || ext == ".oga" || ext == ".opus";
}

std::vector<AudioInput> folder_inputs(const fs::path& in) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(in, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) && is_audio_name(it->path())) files.push_back(it->path());
  }
  if (ec) throw UserError(fmt::format("--in {}: cannot list: {}", display_path(in.string()), ec.message()));
  std::sort(files.begin(), files.end());
  std::vector<AudioInput> out;
  for (const auto& f : files) out.push_back({f.lexically_relative(in).string(), f});
  return out;
}

std::string string_field(const nlohmann::json& row, const char* key, const std::string& where) {
  const auto it = row.find(key);
  if (it == row.end()) return {};
  if (!it->is_string() || it->get<std::string>().empty()) {
    throw DataError(fmt::format("{}: \"{}\" must be a non-empty string", where, key));
  }
  return it->get<std::string>();
}

std::vector<AudioInput> manifest_inputs(const fs::path& manifest) {
  const std::string text = data::io::read_user_file(manifest.string(), "manifest", data::io::kMaxManifestBytes);
  const std::string shown = display_path(manifest.string());
  std::istringstream lines(text);
  std::string line;
  std::vector<AudioInput> out;
  std::set<std::string> ids;
  for (size_t number = 1; std::getline(lines, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", shown, number);
    const auto row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!row.is_object()) throw DataError(where + ": not a JSON object");
    const std::string audio = string_field(row, "audio", where);
    if (audio.empty()) throw DataError(where + ": no \"audio\" (the path of the audio file)");
    std::string id = string_field(row, "id", where);
    if (id.empty()) id = audio;
    if (!ids.insert(id).second) throw DataError(fmt::format("{}: duplicate id \"{}\"", where, id));
    const fs::path path(audio);
    out.push_back({id, path.is_absolute() ? path : manifest.parent_path() / path});
  }
  return out;
}

}  // namespace

std::vector<AudioInput> collect_audio_inputs(const fs::path& in) {
  std::error_code ec;
  const std::string shown = display_path(in.string());
  // Links are followed, so a dangling one is missing too.
  if (!fs::exists(in, ec)) throw UserError("--in " + shown + ": no such file or folder");
  std::vector<AudioInput> out;
  if (fs::is_directory(in, ec)) {
    out = folder_inputs(in);
  } else if (in.extension() == ".jsonl") {
    out = manifest_inputs(in);
  } else {
    out.push_back({in.filename().string(), in});
  }
  if (out.empty()) throw UserError("--in " + shown + ": no audio found (.wav, .flac, .ogg, .oga, .opus files, or manifest rows)");
  return out;
}

}  // namespace medtrain::asr
