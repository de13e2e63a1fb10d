#include "data/text/synthetic_phrases.h"

#include "data/rng.h"

namespace medtrain::data::text {

const char* pick(std::mt19937_64& rng, const std::vector<const char*>& words) {
  return words[uniform_below(rng, words.size())];
}

int64_t between(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(uniform_below(rng, hi - lo + 1));
}

std::string capitalize(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string fill_placeholders(std::string s, const std::function<std::string(const std::string& key)>& value) {
  for (size_t open = s.find('{'); open != std::string::npos; open = s.find('{', open)) {
    const size_t close = s.find('}', open);
    std::string key = s.substr(open + 1, close - open - 1);
    const bool cap = !key.empty() && key[0] >= 'A' && key[0] <= 'Z';
    if (cap) key[0] = static_cast<char>(key[0] - 'A' + 'a');
    const std::string v = cap ? capitalize(value(key)) : value(key);
    s.replace(open, close - open + 1, v);
    open += v.size();
  }
  return s;
}

std::string finding_word(std::mt19937_64& rng, const std::string& key) {
  if (key == "side") return pick(rng, {"left", "right"});
  if (key == "size") return pick(rng, {"small", "moderate", "large", "trace"});
  if (key == "sev") return pick(rng, {"mild", "moderate", "marked"});
  if (key == "lobe") {
    return pick(rng, {"right upper lobe", "right middle lobe", "right lower lobe", "left upper lobe", "left lower lobe",
                      "lingula"});
  }
  return "{" + key + "}";
}

}  // namespace medtrain::data::text
