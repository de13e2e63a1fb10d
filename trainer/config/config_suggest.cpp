#include "trainer/config/config_suggest.h"

#include <algorithm>

#include "trainer/config/config_schema.h"

namespace medtrain::config::detail {
namespace {

// The one key whose name (the part after the section) is `leaf`, if unique.
std::optional<std::string> key_with_leaf(std::string_view leaf) {
  std::optional<std::string> found;
  for (const KeySpec& spec : key_table()) {
    if (spec.name != leaf) continue;
    if (found) return std::nullopt;  // e.g. every_steps: ambiguous, say nothing
    found = spec.path;
  }
  return found;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];  // row[i-1][j-1]
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  const std::size_t limit = std::clamp<std::size_t>(word.size() / 3, 1, 3);
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::optional<std::string> suggest_key(std::string_view path) {
  std::vector<std::string> paths;
  for (const KeySpec& spec : key_table()) paths.push_back(spec.path);
  if (auto near = closest(path, paths)) return near;
  const std::size_t dot = path.rfind('.');
  return key_with_leaf(dot == std::string_view::npos ? path : path.substr(dot + 1));
}

std::optional<std::string> suggest_section(std::string_view name) {
  std::vector<std::string> names;
  for (const SectionSpec& section : section_table()) names.push_back(section.name);
  if (auto near = closest(name, names)) return near;
  return key_with_leaf(name);
}

std::string did_you_mean(const std::optional<std::string>& suggestion) {
  return suggestion ? "; did you mean " + *suggestion + "?" : std::string();
}

}  // namespace medtrain::config::detail
