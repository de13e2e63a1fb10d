#include "data/text/wordpiece.h"

#include <algorithm>

#include "data/data_error.h"
#include "data/text/utf8.h"

namespace medtrain::data::text {

WordPiece::WordPiece(std::unordered_map<std::string, int32_t> vocab, WordPieceOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  const auto unk = vocab_.find(options_.unk_token);
  if (unk == vocab_.end()) {
    throw DataError("WordPiece: unk_token \"" + options_.unk_token +
                    "\" is not in the vocabulary; set model.unk_token to a token the vocab holds");
  }
  unk_id_ = unk->second;
  const std::string& prefix = options_.continuing_subword_prefix;
  for (const auto& [token, id] : vocab_) {
    size_t len = token.size();
    if (!prefix.empty() && token.compare(0, prefix.size(), prefix) == 0) len -= prefix.size();
    max_token_bytes_ = std::max(max_token_bytes_, len);
  }
}

void WordPiece::tokenize(const NormalizedText& text, Span word, std::vector<Piece>& out) const {
  const uint32_t n_chars = word.end - word.start;
  if (n_chars > options_.max_input_chars_per_word) {
    out.push_back({unk_id_, word});
    return;
  }
  // UTF-8 of the word, with the byte offset of each code point (plus the end).
  thread_local std::string utf8;
  thread_local std::vector<uint32_t> at;
  thread_local std::string key;
  utf8.clear();
  at.clear();
  for (uint32_t i = word.start; i < word.end; ++i) {
    at.push_back(static_cast<uint32_t>(utf8.size()));
    append_utf8(utf8, text.chars[i]);
  }
  at.push_back(static_cast<uint32_t>(utf8.size()));

  const size_t first_out = out.size();
  const std::string& prefix = options_.continuing_subword_prefix;
  uint32_t start = 0;
  while (start < n_chars) {
    // Longest candidate first; nothing longer than the longest vocab entry can match.
    uint32_t end = n_chars;
    while (end > start && at[end] - at[start] > max_token_bytes_) --end;
    bool found = false;
    for (; end > start; --end) {
      key.clear();
      if (start > 0) key += prefix;
      key.append(utf8, at[start], at[end] - at[start]);
      const auto hit = vocab_.find(key);
      if (hit != vocab_.end()) {
        out.push_back({hit->second, {word.start + start, word.start + end}});
        found = true;
        break;
      }
    }
    if (!found) {
      out.resize(first_out);
      out.push_back({unk_id_, word});
      return;
    }
    start = end;
  }
}

}  // namespace medtrain::data::text
