#include "trainer/checkpoint/checkpoint_dir.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "trainer/checkpoint/atomic_file.h"

namespace medtrain::checkpoint {

namespace fs = std::filesystem;

std::string step_dir_name(int64_t step) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "step-%08" PRId64, step);
  return buffer;
}

std::optional<int64_t> parse_step_dir_name(const std::string& name) {
  static const std::string kPrefix = "step-";
  if (name.size() <= kPrefix.size() || name.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  const std::string digits = name.substr(kPrefix.size());
  if (digits.size() > 18 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return std::stoll(digits);
}

std::vector<std::pair<int64_t, std::string>> list_step_dirs(const fs::path& ckpt_dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  for (fs::directory_iterator it(ckpt_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto step = parse_step_dir_name(name);
    std::error_code type_ec;
    if (step && it->is_directory(type_ec) && !it->is_symlink(type_ec)) out.emplace_back(*step, name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> read_pointer(const fs::path& ckpt_dir, const std::string& link) {
  std::error_code ec;
  const fs::path path = ckpt_dir / link;
  if (!fs::is_symlink(fs::symlink_status(path, ec))) return std::nullopt;
  const fs::path target = fs::read_symlink(path, ec);
  if (ec) return std::nullopt;
  return target.string();
}

namespace {

bool is_leftover(const std::string& name) {
  const auto starts = [&](const std::string& prefix) { return name.compare(0, prefix.size(), prefix) == 0; };
  return starts(kTmpPrefix) || starts(std::string(kLatestLink) + ".tmp-") ||
         starts(std::string(kBestLink) + ".tmp-");
}

}  // namespace

void prune(const fs::path& ckpt_dir, int64_t keep_last, const std::set<std::string>& protect) {
  std::error_code ec;
  const auto steps = list_step_dirs(ckpt_dir);
  const int64_t n = static_cast<int64_t>(steps.size());
  for (int64_t i = 0; i < n - keep_last; ++i) {  // ascending: the oldest come first
    if (protect.count(steps[i].second) == 0) std::filesystem::remove_all(ckpt_dir / steps[i].second, ec);
  }
  remove_leftovers(ckpt_dir);
}

std::vector<std::string> remove_leftovers(const fs::path& ckpt_dir) {
  std::error_code ec;
  std::vector<fs::path> leftovers;
  for (fs::directory_iterator it(ckpt_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (is_leftover(it->path().filename().string())) leftovers.push_back(it->path());
  }
  std::vector<std::string> failed;
  for (const auto& path : leftovers) {
    std::filesystem::remove_all(path, ec);
    if (ec) failed.push_back(path.string() + ": " + ec.message());
  }
  return failed;
}

}  // namespace medtrain::checkpoint
