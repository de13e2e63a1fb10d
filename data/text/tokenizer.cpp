#include "data/text/tokenizer.h"

#include <algorithm>

#include <c10/util/Exception.h>

#include "data/data_error.h"
#include "data/text/utf8.h"

namespace medtrain::data::text {

Tokenizer::Tokenizer(TokenizerParts parts)
    : parts_(std::move(parts)), byte_level_pre_tokenizer_(parts_.byte_level) {
  TORCH_INTERNAL_ASSERT(parts_.model, "a Tokenizer needs a model");
  for (const auto& [token, id] : parts_.model->vocab()) {
    if (id < 0) continue;
    if (static_cast<size_t>(id) >= id_to_token_.size()) id_to_token_.resize(id + 1);
    id_to_token_[id] = token;
  }
  for (const AddedTokenSpec& t : parts_.added) add_token(t);
}

void Tokenizer::add_token(const AddedTokenSpec& token) {
  if (token.id < 0 || token.content.empty()) return;
  added_.add(decode_utf8_lossy(token.content).chars, token.id, token.special);
  added_ids_[token.content] = token.id;
  if (static_cast<size_t>(token.id) >= id_to_token_.size()) id_to_token_.resize(token.id + 1);
  id_to_token_[token.id] = token.content;
}

int32_t Tokenizer::token_to_id(const std::string& token) const {
  const auto added = added_ids_.find(token);
  if (added != added_ids_.end()) return added->second;
  const auto& v = parts_.model->vocab();
  const auto it = v.find(token);
  return it == v.end() ? -1 : it->second;
}

const std::string& Tokenizer::id_to_token(int32_t id) const {
  static const std::string kNone;
  return id >= 0 && static_cast<size_t>(id) < id_to_token_.size() ? id_to_token_[id] : kNone;
}

void Tokenizer::pre_tokenize(NormalizedText& text, uint32_t begin, std::vector<Span>& words) const {
  const auto end = static_cast<uint32_t>(text.size());
  switch (parts_.pre_tokenizer) {
    case PreTokenizerKind::kBert:
      bert_pre_tokenizer_.split(text, begin, end, words);
      return;
    case PreTokenizerKind::kByteLevel:
      byte_level_pre_tokenizer_.pre_tokenize(text, begin, words);
      return;
    case PreTokenizerKind::kNone:
      if (end > begin) words.push_back({begin, end});
      return;
  }
}

Encoding Tokenizer::encode_sequence(std::string_view text, int32_t sequence) const {
  const DecodedText decoded = decode_utf8_lossy(text);
  const auto n = static_cast<uint32_t>(decoded.chars.size());
  Encoding out;
  out.invalid_utf8_replacements = decoded.replacements;

  thread_local std::vector<Segment> segments;
  thread_local NormalizedText normalized;
  thread_local std::vector<Span> words;
  thread_local std::vector<Piece> pieces;
  segments.clear();
  normalized.clear();
  words.clear();
  pieces.clear();
  if (added_.empty()) {
    segments.push_back({0, n, -1});
  } else {
    added_.split(decoded.chars.data(), n, segments);
  }
  const auto push_piece = [&](const Piece& p) {
    const uint32_t first = normalized.source[p.span.start];
    const uint32_t last = normalized.source[p.span.end - 1] + 1;
    out.push(p.id, 0, 0, sequence, {first, last},
             {decoded.byte_start[first], decoded.byte_start[last]});
  };
  for (const Segment& s : segments) {
    if (s.id >= 0) {
      out.push(s.id, 0, 0, sequence, {s.begin, s.end},
               {decoded.byte_start[s.begin], decoded.byte_start[s.end]});
      continue;
    }
    const auto norm_begin = static_cast<uint32_t>(normalized.size());
    if (parts_.normalizer) {
      parts_.normalizer->normalize(decoded.chars.data(), s.begin, s.end, normalized);
    } else {
      for (uint32_t i = s.begin; i < s.end; ++i) normalized.push(decoded.chars[i], i);
    }
    words.clear();
    pre_tokenize(normalized, norm_begin, words);
    for (const Span& w : words) {
      pieces.clear();
      parts_.model->tokenize(normalized, w, pieces);
      for (const Piece& p : pieces) push_piece(p);
    }
  }
  return out;
}

Encoding Tokenizer::finish(Encoding a, Encoding* b, bool add_special_tokens) const {
  if (parts_.truncation) {
    const size_t added = add_special_tokens ? parts_.processor.added_tokens(b != nullptr) : 0;
    const size_t max_length = parts_.truncation->max_length;
    const size_t budget = max_length > added ? max_length - added : 0;
    truncate_pair(a, b, budget, *parts_.truncation);
  }
  if (parts_.trimming.enabled) {
    trim_offsets(a, id_to_token_, parts_.trimming.add_prefix_space);
    if (b) trim_offsets(*b, id_to_token_, parts_.trimming.add_prefix_space);
  }
  std::vector<Encoding> overflow = std::move(a.overflowing);
  a.overflowing.clear();
  const TemplateProcessor plain;
  const TemplateProcessor& processor = add_special_tokens ? parts_.processor : plain;
  Encoding out = processor.apply(std::move(a), b);
  for (Encoding& o : overflow) out.overflowing.push_back(processor.apply(std::move(o), nullptr));
  return out;
}

Encoding Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  Encoding out = finish(encode_sequence(text, 0), nullptr, add_special_tokens);
  if (parts_.padding) {
    pad_encoding(out, padded_length(out.size(), *parts_.padding), *parts_.padding);
  }
  return out;
}

Encoding Tokenizer::encode_pair(std::string_view a, std::string_view b,
                                bool add_special_tokens) const {
  Encoding second = encode_sequence(b, 1);
  Encoding out = finish(encode_sequence(a, 0), &second, add_special_tokens);
  if (parts_.padding) {
    pad_encoding(out, padded_length(out.size(), *parts_.padding), *parts_.padding);
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    const std::string& token = id_to_token(id);
    if (token.empty() || (skip_special_tokens && added_.is_special(id))) continue;
    tokens.push_back(token);
  }
  return decode_tokens(tokens, parts_.decoder);
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                              bool add_special_tokens) const {
  std::vector<Encoding> out;
  out.reserve(texts.size());
  for (const std::string& t : texts) {
    out.push_back(finish(encode_sequence(t, 0), nullptr, add_special_tokens));
  }
  if (parts_.padding) {
    size_t longest = 0;
    for (const Encoding& e : out) longest = std::max(longest, e.size());
    const size_t length = padded_length(longest, *parts_.padding);
    for (Encoding& e : out) pad_encoding(e, length, *parts_.padding);
  }
  return out;
}

}  // namespace medtrain::data::text
