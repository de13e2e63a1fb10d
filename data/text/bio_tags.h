#pragma once
// Token tags for entity tagging (BIO / IOB2): tag 0 is "O"; entity type k
// (0-based, in the order of data.label_names) has "B-<type>" = 2k+1 and
// "I-<type>" = 2k+2. Targets hold these indices, or kIgnoreTag for special and
// padding tokens, which the loss and the metrics skip.
#include <cstdint>
#include <string>
#include <vector>

namespace medtrain::data::text {

inline constexpr int64_t kIgnoreTag = -100;  // PyTorch's cross_entropy ignore_index default

inline int64_t begin_tag(size_t type) { return static_cast<int64_t>(2 * type + 1); }
inline int64_t inside_tag(size_t type) { return static_cast<int64_t>(2 * type + 2); }
inline int64_t tag_count(size_t types) { return static_cast<int64_t>(2 * types + 1); }

// {"O", "B-<t0>", "I-<t0>", "B-<t1>", ...}
inline std::vector<std::string> bio_tag_names(const std::vector<std::string>& types) {
  std::vector<std::string> names{"O"};
  for (const auto& t : types) {
    names.push_back("B-" + t);
    names.push_back("I-" + t);
  }
  return names;
}

}  // namespace medtrain::data::text
