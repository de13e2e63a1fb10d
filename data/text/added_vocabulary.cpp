#include "data/text/added_vocabulary.h"

#include <algorithm>

namespace medtrain::data::text {

AddedVocabulary::AddedVocabulary() : nodes_(1) {}

void AddedVocabulary::add(const std::u32string& content, int32_t id, bool special) {
  if (content.empty()) return;
  uint32_t node = 0;
  for (const char32_t c : content) {
    const auto it = nodes_[node].next.find(c);
    if (it != nodes_[node].next.end()) {
      node = it->second;
      continue;
    }
    const auto created = static_cast<uint32_t>(nodes_.size());
    nodes_[node].next.emplace(c, created);
    nodes_.emplace_back();
    node = created;
  }
  nodes_[node].id = id;
  const auto at = std::lower_bound(special_ids_.begin(), special_ids_.end(), id);
  const bool listed = at != special_ids_.end() && *at == id;
  if (special && !listed) special_ids_.insert(at, id);
  if (!special && listed) special_ids_.erase(at);
}

bool AddedVocabulary::is_special(int32_t id) const {
  return std::binary_search(special_ids_.begin(), special_ids_.end(), id);
}

std::pair<int32_t, uint32_t> AddedVocabulary::longest_at(const char32_t* chars, uint32_t i,
                                                         uint32_t n) const {
  std::pair<int32_t, uint32_t> best{-1, 0};
  uint32_t node = 0;
  for (uint32_t j = i; j < n; ++j) {
    const auto it = nodes_[node].next.find(chars[j]);
    if (it == nodes_[node].next.end()) break;
    node = it->second;
    if (nodes_[node].id >= 0) best = {nodes_[node].id, j + 1 - i};
  }
  return best;
}

void AddedVocabulary::split(const char32_t* chars, uint32_t n, std::vector<Segment>& out) const {
  uint32_t text_start = 0;
  uint32_t i = 0;
  while (i < n) {
    const auto [id, len] = longest_at(chars, i, n);
    if (id < 0) {
      ++i;
      continue;
    }
    if (i > text_start) out.push_back({text_start, i, -1});
    out.push_back({i, i + len, id});
    i += len;
    text_start = i;
  }
  if (n > text_start) out.push_back({text_start, n, -1});
}

}  // namespace medtrain::data::text
