#include "data/text/truncation.h"

#include <algorithm>
#include <string>
#include <utility>

#include "data/data_error.h"

namespace medtrain::data::text {
namespace {

Encoding slice(const Encoding& e, size_t start, size_t stop) {
  Encoding out;
  for (size_t i = start; i < stop; ++i) {
    out.push(e.ids[i], e.type_ids[i], e.special_tokens_mask[i], e.sequence_ids[i], e.offsets[i],
             e.byte_offsets[i]);
    out.attention_mask.back() = e.attention_mask[i];
  }
  return out;
}

}  // namespace

void truncate_encoding(Encoding& enc, size_t max_len, size_t stride, bool left, bool keep_overflow) {
  const size_t n = enc.size();
  if (max_len >= n) return;
  if (max_len > 0 && stride >= max_len) {
    throw DataError("truncation: stride (" + std::to_string(stride) +
                    ") must be smaller than the tokens left for text (" + std::to_string(max_len) +
                    "); lower truncation.stride or raise max_length");
  }
  std::vector<std::pair<size_t, size_t>> parts;  // [start, stop) windows, the kept one first
  if (max_len == 0) {
    parts = {{0, 0}, {0, n}};
  } else if (!left) {
    for (size_t start = 0;; start += max_len - stride) {
      const size_t stop = std::min(start + max_len, n);
      parts.emplace_back(start, stop);
      if (stop == n) break;
    }
  } else {
    for (size_t stop = n;; stop -= max_len - stride) {
      const size_t start = stop > max_len ? stop - max_len : 0;
      parts.emplace_back(start, stop);
      if (start == 0 || stop <= max_len - stride) break;
    }
  }
  Encoding kept = slice(enc, parts[0].first, parts[0].second);
  kept.invalid_utf8_replacements = enc.invalid_utf8_replacements;
  kept.truncated_tokens = enc.truncated_tokens + (n - kept.size());
  if (keep_overflow) {
    for (size_t i = 1; i < parts.size(); ++i) {
      kept.overflowing.push_back(slice(enc, parts[i].first, parts[i].second));
    }
  }
  enc = std::move(kept);
}

void truncate_pair(Encoding& a, Encoding* b, size_t budget, const TruncationOptions& options) {
  const size_t total = a.size() + (b ? b->size() : 0);
  if (total <= budget) return;
  const size_t to_remove = total - budget;
  const bool left = options.left;
  if (options.strategy == TruncationStrategy::kLongestFirst) {
    if (!b) {
      truncate_encoding(a, budget, options.stride, left, true);
      return;
    }
    size_t n1 = a.size();
    size_t n2 = b->size();
    const bool swap = n1 > n2;
    if (swap) std::swap(n1, n2);
    n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
    if (n1 + n2 > budget) {
      n1 = budget / 2;
      n2 = n1 + budget % 2;
    }
    if (swap) std::swap(n1, n2);
    truncate_encoding(a, n1, options.stride, left, false);
    truncate_encoding(*b, n2, options.stride, left, false);
    return;
  }
  Encoding* target = options.strategy == TruncationStrategy::kOnlyFirst ? &a : b;
  if (!target) {
    throw DataError("truncation: strategy only_second needs a pair of texts; use longest_first");
  }
  if (target->size() <= to_remove) {
    throw DataError("truncation: the sequence to truncate has " + std::to_string(target->size()) +
                    " tokens but " + std::to_string(to_remove) +
                    " must go; use longest_first or a larger max_length");
  }
  truncate_encoding(*target, target->size() - to_remove, options.stride, left, b == nullptr);
}

}  // namespace medtrain::data::text
