#pragma once
// Seeded phrase helpers shared by the synthetic reports (synthetic_reports.h)
// and the synthetic dictation (data/audio/synthetic_dictation.h): choices drawn
// through data/rng.h so a seed gives the same text on every platform, and
// sentence templates with {key} placeholders.
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace medtrain::data::text {

// One of `words` (not empty), uniformly.
const char* pick(std::mt19937_64& rng, const std::vector<const char*>& words);
// Uniform in [lo, hi].
int64_t between(std::mt19937_64& rng, int64_t lo, int64_t hi);
// `s` with an ASCII lower-case first letter made upper-case.
std::string capitalize(std::string s);

// `s` with every {key} replaced by value(key), left to right; a capitalized
// key ({Side}) asks value() for "side" and capitalizes what it gives.
std::string fill_placeholders(std::string s, const std::function<std::string(const std::string& key)>& value);

// A finding's word for {side} {size} {sev} or {lobe}, drawn from `rng` (one
// draw); "{key}" back, and no draw, for any other key.
std::string finding_word(std::mt19937_64& rng, const std::string& key);

}  // namespace medtrain::data::text
