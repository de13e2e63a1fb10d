#pragma once
// A small BERT tokenizer.json for the unit tests (the real one is exercised by
// wordpiece_parity_test.py).
#include <string>

namespace medtrain::data::text::testing {

inline const char* kTinyVocab[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "patient",
                                   "has", "pneu", "##mon", "##ia", "no", ".", ",", "cafe", "日",
                                   "x", "##x", "##the"};

inline std::string tiny_tokenizer_json(const std::string& extra = "") {
  std::string vocab;
  int id = 0;
  for (const char* t : kTinyVocab) {
    if (id) vocab += ',';
    vocab += "\"" + std::string(t) + "\":" + std::to_string(id++);
  }
  std::string added;
  for (int i = 0; i < 5; ++i) {
    if (i) added += ',';
    added += "{\"id\":" + std::to_string(i) + ",\"content\":\"" + kTinyVocab[i] +
             "\",\"special\":true,\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
             "\"normalized\":false}";
  }
  return R"({"version":"1.0",)" + extra + R"("added_tokens":[)" + added + R"(],
    "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,
                  "strip_accents":null,"lowercase":true},
    "pre_tokenizer":{"type":"BertPreTokenizer"},
    "post_processor":{"type":"BertProcessing","sep":["[SEP]",3],"cls":["[CLS]",2]},
    "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",
             "max_input_chars_per_word":100,"vocab":{)" + vocab + "}}}";
}

}  // namespace medtrain::data::text::testing
