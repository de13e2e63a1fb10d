#pragma once
// A small byte-level BPE tokenizer.json (Whisper's layout) for the unit tests;
// the real one is exercised by bpe_parity_test.py. Ids 0-255 are the bytes in
// GPT-2's alphabet, then the merges' tokens, then added tokens.
#include <string>

#include <nlohmann/json.hpp>

#include "data/text/byte_level.h"
#include "data/text/utf8.h"

namespace medtrain::data::text::testing {

inline nlohmann::json tiny_bpe_json() {
  nlohmann::json vocab = nlohmann::json::object();
  for (int b = 0; b < 256; ++b) {
    std::string c;
    append_utf8(c, byte_to_char(static_cast<uint8_t>(b)));
    vocab[c] = b;
  }
  const char* merges[][2] = {{"\u0120", "t"}, {"h", "e"}, {"\u0120t", "he"}, {"t", "he"}, {"'", "t"}};
  nlohmann::json merge_list = nlohmann::json::array();
  int id = 256;
  for (const auto& m : merges) {
    merge_list.push_back(std::string(m[0]) + " " + m[1]);
    vocab[std::string(m[0]) + m[1]] = id++;  // 256 Ġt, 257 he, 258 Ġthe, 259 the, 260 't
  }
  vocab["<|endoftext|>"] = 261;
  const auto added = [](int id, const char* content) {
    return nlohmann::json{{"id", id}, {"content", content}, {"single_word", false}, {"lstrip", false},
                          {"rstrip", false}, {"normalized", false}, {"special", true}};
  };
  const auto special = [](const char* name, int id) {
    return nlohmann::json{{"id", name}, {"ids", {id}}, {"tokens", {name}}};
  };
  const auto piece = [](const char* kind, const char* id) {
    return nlohmann::json{{kind, {{"id", id}, {"type_id", 0}}}};
  };
  nlohmann::json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  j["added_tokens"] = {added(261, "<|endoftext|>"), added(262, "<|startoftranscript|>")};
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                        {"use_regex", true}};
  j["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {piece("SpecialToken", "<|startoftranscript|>"), piece("Sequence", "A"),
                  piece("SpecialToken", "<|endoftext|>")}},
      {"pair", {piece("Sequence", "A"), piece("Sequence", "B")}},
      {"special_tokens", {{"<|endoftext|>", special("<|endoftext|>", 261)},
                          {"<|startoftranscript|>", special("<|startoftranscript|>", 262)}}}};
  j["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  j["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr},
                {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""}, {"fuse_unk", false},
                {"vocab", vocab}, {"merges", merge_list}};
  return j;
}

}  // namespace medtrain::data::text::testing
