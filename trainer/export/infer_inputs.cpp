#include "trainer/export/infer_inputs.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "data/data_error.h"
#include "data/dicom/dicom_decode.h"
#include "data/manifest.h"
#include "data/io/user_file.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> folder_files(const fs::path& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  if (ec) throw UserError("--in " + dir.string() + ": cannot list the folder: " + ec.message());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw UserError("--in " + dir.string() + ": the folder holds no files");
  return files;
}

std::vector<std::string> manifest_files(const fs::path& manifest) {
  std::istringstream in;
  try {
    in.str(data::io::read_user_file(manifest.string(), "--in manifest", data::io::kMaxManifestBytes));
  } catch (const data::DataError& e) {
    throw UserError(e.what());
  }
  std::string line;
  size_t line_no = 0, path_col = 0, columns = 0;
  bool header = false;
  std::vector<std::string> files;
  const fs::path root = manifest.parent_path();
  auto where = [&] { return "--in " + manifest.string() + ":" + std::to_string(line_no); };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::vector<std::string> fields;
    try {
      fields = data::split_csv_line(line);
    } catch (const data::DataError& e) {
      throw UserError(where() + ": " + e.what());
    }
    if (!header) {
      auto it = std::find(fields.begin(), fields.end(), "path");
      if (it == fields.end()) throw UserError(where() + ": the header has no `path` column");
      path_col = static_cast<size_t>(it - fields.begin());
      columns = fields.size();
      header = true;
      continue;
    }
    if (fields.size() != columns) {
      throw UserError(where() + ": " + std::to_string(fields.size()) + " fields, the header has " +
                      std::to_string(columns));
    }
    if (fields[path_col].empty()) throw UserError(where() + ": empty path");
    const fs::path p(fields[path_col]);
    files.push_back((p.is_absolute() ? p : root / p).string());
  }
  if (!header) throw UserError("--in " + manifest.string() + ": empty manifest (expected a header with `path`)");
  if (files.empty()) throw UserError("--in " + manifest.string() + ": the manifest names no files");
  return files;
}

std::optional<data::DicomImageInfo> header(const std::string& path) {
  try {
    return data::read_dicom_info(path);
  } catch (const data::DataError&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<std::string> collect_inputs(const std::filesystem::path& in) {
  std::error_code ec;
  if (fs::is_directory(in, ec)) return folder_files(in);
  if (!fs::exists(in, ec)) throw UserError("--in " + in.string() + ": no such file or folder");
  if (in.extension() == ".csv") return manifest_files(in);
  return {in.string()};
}

std::vector<std::string> collect_series(const std::filesystem::path& in) {
  std::error_code ec;
  if (!fs::exists(in, ec)) throw UserError("--in " + in.string() + ": no such file or folder");
  if (!fs::is_directory(in, ec)) {
    if (in.extension() == ".csv") return manifest_files(in);
    throw UserError("--in " + in.string() + ": this model takes volumes; name a series folder, a folder of series "
                    "or a manifest .csv of series folders");
  }
  std::vector<std::string> series;
  for (const std::string& file : folder_files(in)) series.push_back(fs::path(file).parent_path().string());
  std::sort(series.begin(), series.end());
  series.erase(std::unique(series.begin(), series.end()), series.end());
  return series;
}

std::string volume_input_reason(const std::filesystem::path& in) {
  std::error_code ec;
  if (!fs::is_regular_file(in, ec) || in.extension() == ".csv") return "";
  const auto h = header(in.string());
  if (h && h->frames > 1 && h->image_orientation) return "a multi-frame volume (" + std::to_string(h->frames) + " frames)";
  return "";
}

}  // namespace medtrain::exporter
