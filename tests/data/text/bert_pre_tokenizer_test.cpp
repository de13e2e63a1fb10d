#include "data/text/bert_pre_tokenizer.h"

#include <gtest/gtest.h>

#include "data/text/utf8.h"

namespace medtrain::data::text {
namespace {

std::vector<std::string> words_of(const std::string& utf8) {
  const DecodedText d = decode_utf8_lossy(utf8);
  NormalizedText t;
  for (uint32_t i = 0; i < d.chars.size(); ++i) t.push(d.chars[i], i);
  std::vector<Span> spans;
  BertPreTokenizer().split(t, 0, static_cast<uint32_t>(t.size()), spans);
  std::vector<std::string> out;
  for (const Span& s : spans) {
    std::string w;
    for (uint32_t i = s.start; i < s.end; ++i) append_utf8(w, t.chars[i]);
    out.push_back(w);
  }
  return out;
}

TEST(BertPreTokenizer, SplitsOnWhitespaceAndIsolatesPunctuation) {
  EXPECT_EQ(words_of("Hey friend!     How are you?!?"),
            (std::vector<std::string>{"Hey", "friend", "!", "How", "are", "you", "?", "!", "?"}));
}

TEST(BertPreTokenizer, AsciiSymbolsArePunctuationButUnicodeSymbolsAreNot) {
  // $ + < = > ^ ` | ~ are symbols in Unicode but punctuation for BERT; © and 😀 stay in the word.
  EXPECT_EQ(words_of("a$b+c<d=e>f^g`h|i~j"),
            (std::vector<std::string>{"a", "$", "b", "+", "c", "<", "d", "=", "e", ">", "f", "^", "g",
                                      "`", "h", "|", "i", "~", "j"}));
  EXPECT_EQ(words_of("x©y😀z"), (std::vector<std::string>{"x©y😀z"}));
}

TEST(BertPreTokenizer, UnicodePunctuationAndSpaces) {
  EXPECT_EQ(words_of("«oui»—non\u2003fin\u3001"),
            (std::vector<std::string>{"«", "oui", "»", "—", "non", "fin", "、"}));
}

TEST(BertPreTokenizer, MedicalText) {
  EXPECT_EQ(words_of("BP 120/80mmHg, T=38.5°C."),
            (std::vector<std::string>{"BP", "120", "/", "80mmHg", ",", "T", "=", "38", ".", "5°C", "."}));
}

}  // namespace
}  // namespace medtrain::data::text
