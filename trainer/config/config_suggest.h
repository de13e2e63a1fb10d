#pragma once
// "Did you mean ...?" for misspelled keys, sections and override paths.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace medtrain::config::detail {

// Levenshtein distance (insert, delete, substitute; each costs 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, if it is near enough to be a plausible typo
// (distance at most a third of the word's length, between 1 and 3).
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates);

// A known key path for a mistyped `path` ("optim.lrr" -> "optim.lr"), or for a
// key put in the wrong section or none ("run.lr", "lr" -> "optim.lr").
std::optional<std::string> suggest_key(std::string_view path);

// A known section for a mistyped top-level name, or the key path when a key was
// written at the top level ("lr" -> "optim.lr").
std::optional<std::string> suggest_section(std::string_view name);

// "; did you mean X?" or "" when there is no suggestion.
std::string did_you_mean(const std::optional<std::string>& suggestion);

}  // namespace medtrain::config::detail
