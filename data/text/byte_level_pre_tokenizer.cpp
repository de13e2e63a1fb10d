#include "data/text/byte_level_pre_tokenizer.h"

#include <string>

#include "data/text/byte_level.h"
#include "data/text/gpt2_split.h"
#include "data/text/utf8.h"

namespace medtrain::data::text {

void ByteLevelPreTokenizer::pre_tokenize(NormalizedText& text, uint32_t begin,
                                         std::vector<Span>& words) const {
  thread_local NormalizedText in;
  thread_local std::vector<Span> spans;
  thread_local std::string utf8;
  in.clear();
  spans.clear();
  if (begin == text.size()) return;
  if (options_.add_prefix_space && text.chars[begin] != U' ') in.push(U' ', text.source[begin]);
  in.chars.append(text.chars, begin, std::u32string::npos);
  in.source.insert(in.source.end(), text.source.begin() + begin, text.source.end());
  text.chars.resize(begin);
  text.source.resize(begin);

  const auto n = static_cast<uint32_t>(in.size());
  if (options_.use_regex) {
    gpt2_split(in.chars.data(), n, spans);
  } else {
    spans.push_back({0, n});
  }
  for (const Span& s : spans) {
    const auto word_start = static_cast<uint32_t>(text.size());
    for (uint32_t i = s.start; i < s.end; ++i) {
      utf8.clear();
      append_utf8(utf8, in.chars[i]);
      for (const char b : utf8) text.push(byte_to_char(static_cast<uint8_t>(b)), in.source[i]);
    }
    words.push_back({word_start, static_cast<uint32_t>(text.size())});
  }
}

}  // namespace medtrain::data::text
