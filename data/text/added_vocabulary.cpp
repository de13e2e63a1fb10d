#include "data/text/added_vocabulary.h"

namespace medtrain::data::text {

void AddedVocabulary::add(std::u32string content, int32_t id) {
  if (!content.empty()) tokens_.push_back({std::move(content), id});
}

void AddedVocabulary::split(const char32_t* chars, uint32_t n, std::vector<Segment>& out) const {
  uint32_t text_start = 0;
  uint32_t i = 0;
  while (i < n) {
    const AddedToken* best = nullptr;
    for (const AddedToken& t : tokens_) {
      if (t.content[0] != chars[i] || t.content.size() > n - i) continue;
      if (best && t.content.size() <= best->content.size()) continue;
      if (std::char_traits<char32_t>::compare(t.content.data(), chars + i, t.content.size()) == 0) {
        best = &t;
      }
    }
    if (!best) {
      ++i;
      continue;
    }
    if (i > text_start) out.push_back({text_start, i, -1});
    const auto len = static_cast<uint32_t>(best->content.size());
    out.push_back({i, i + len, best->id});
    i += len;
    text_start = i;
  }
  if (n > text_start) out.push_back({text_start, n, -1});
}

}  // namespace medtrain::data::text
