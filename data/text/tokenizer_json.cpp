// Loading a Tokenizer from an HF tokenizer.json or a vocab.txt. Parts we do
// not implement are refused with the field's name, never silently ignored.
#include <fstream>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "data/data_error.h"
#include "data/text/bpe.h"
#include "data/text/tokenizer.h"

namespace medtrain::data::text {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& field, const std::string& what) {
  throw DataError(where + ": " + field + ": " + what);
}

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open the " + what + "; check the path");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

BertNormalizerOptions parse_normalizer(const json& j, const std::string& where) {
  const std::string type = j.value("type", "");
  if (type != "BertNormalizer") {
    fail(where, "normalizer.type", "\"" + type + "\" is not supported (only BertNormalizer or null)");
  }
  BertNormalizerOptions o;
  o.clean_text = j.value("clean_text", true);
  o.handle_chinese_chars = j.value("handle_chinese_chars", true);
  if (j.contains("strip_accents") && !j["strip_accents"].is_null()) {
    o.strip_accents = j["strip_accents"].get<bool>();
  }
  o.lowercase = j.value("lowercase", true);
  return o;
}

std::vector<TemplatePiece> parse_template(const json& pieces, const json& specials,
                                          const std::string& where, const std::string& field) {
  std::vector<TemplatePiece> out;
  for (const json& p : pieces) {
    TemplatePiece t;
    if (p.contains("Sequence")) {
      t.is_sequence = true;
      t.sequence = p["Sequence"].value("id", "A") == "B" ? 1 : 0;
      t.type_id = p["Sequence"].value("type_id", 0);
    } else if (p.contains("SpecialToken")) {
      const std::string name = p["SpecialToken"].value("id", "");
      t.type_id = p["SpecialToken"].value("type_id", 0);
      if (!specials.contains(name)) {
        fail(where, field, "special token \"" + name + "\" is not in special_tokens");
      }
      t.special_ids = specials[name]["ids"].get<std::vector<int32_t>>();
    } else {
      fail(where, field, "expected Sequence or SpecialToken pieces");
    }
    out.push_back(std::move(t));
  }
  return out;
}

TemplateProcessor bert_template(int32_t cls, int32_t sep) {
  const auto special = [](int32_t id, int32_t type) {
    TemplatePiece p;
    p.special_ids = {id};
    p.type_id = type;
    return p;
  };
  const auto seq = [](int s) {
    TemplatePiece p;
    p.is_sequence = true;
    p.sequence = s;
    p.type_id = s;
    return p;
  };
  return TemplateProcessor({special(cls, 0), seq(0), special(sep, 0)},
                           {special(cls, 0), seq(0), special(sep, 0), seq(1), special(sep, 1)});
}

// RoBERTa's <s> A </s> and <s> A </s></s> B </s>, every type id 0 (HF `RobertaProcessing`).
TemplateProcessor roberta_template(int32_t cls, int32_t sep) {
  const auto special = [](int32_t id) {
    TemplatePiece p;
    p.special_ids = {id};
    return p;
  };
  const auto seq = [](int s) {
    TemplatePiece p;
    p.is_sequence = true;
    p.sequence = s;
    return p;
  };
  return TemplateProcessor({special(cls), seq(0), special(sep)},
                           {special(cls), seq(0), special(sep), special(sep), seq(1), special(sep)});
}

void parse_processor(const json& j, const std::string& where, TokenizerParts& parts) {
  const std::string type = j.value("type", "");
  if (type == "TemplateProcessing") {
    const json specials = j.value("special_tokens", json::object());
    parts.processor = TemplateProcessor(parse_template(j.at("single"), specials, where, "post_processor.single"),
                                        parse_template(j.at("pair"), specials, where, "post_processor.pair"));
  } else if (type == "BertProcessing") {
    parts.processor = bert_template(j.at("cls").at(1).get<int32_t>(), j.at("sep").at(1).get<int32_t>());
  } else if (type == "RobertaProcessing") {
    parts.processor = roberta_template(j.at("cls").at(1).get<int32_t>(), j.at("sep").at(1).get<int32_t>());
    parts.trimming = {j.value("trim_offsets", true), j.value("add_prefix_space", true)};
  } else if (type == "ByteLevel") {  // GPT-2: no special tokens, only the offsets
    parts.trimming = {j.value("trim_offsets", true), j.value("add_prefix_space", true)};
  } else {
    fail(where, "post_processor.type",
         "\"" + type + "\" is not supported (TemplateProcessing, BertProcessing, RobertaProcessing, "
         "ByteLevel or null)");
  }
}

TruncationOptions parse_truncation(const json& j, const std::string& where) {
  TruncationOptions t;
  t.max_length = j.value("max_length", size_t{512});
  t.stride = j.value("stride", size_t{0});
  const std::string strategy = j.value("strategy", "LongestFirst");
  if (strategy == "LongestFirst") {
    t.strategy = TruncationStrategy::kLongestFirst;
  } else if (strategy == "OnlyFirst") {
    t.strategy = TruncationStrategy::kOnlyFirst;
  } else if (strategy == "OnlySecond") {
    t.strategy = TruncationStrategy::kOnlySecond;
  } else {
    fail(where, "truncation.strategy", "unknown \"" + strategy + "\"");
  }
  t.left = j.value("direction", "Right") == "Left";
  return t;
}

PaddingOptions parse_padding(const json& j, const std::string& where) {
  PaddingOptions p;
  const json& s = j.at("strategy");
  if (s.is_object() && s.contains("Fixed")) {
    p.fixed_length = s["Fixed"].get<size_t>();
  } else if (!(s.is_string() && s.get<std::string>() == "BatchLongest")) {
    fail(where, "padding.strategy", "expected \"BatchLongest\" or {\"Fixed\": N}");
  }
  if (j.contains("pad_to_multiple_of") && !j["pad_to_multiple_of"].is_null()) {
    p.pad_to_multiple_of = j["pad_to_multiple_of"].get<size_t>();
  }
  p.left = j.value("direction", "Right") == "Left";
  p.pad_id = j.value("pad_id", 0);
  p.pad_type_id = j.value("pad_type_id", 0);
  p.pad_token = j.value("pad_token", "[PAD]");
  return p;
}


std::unique_ptr<TokenizerModel> parse_wordpiece(const json& model) {
  WordPieceOptions wp;
  wp.unk_token = model.value("unk_token", "[UNK]");
  wp.continuing_subword_prefix = model.value("continuing_subword_prefix", "##");
  wp.max_input_chars_per_word = model.value("max_input_chars_per_word", size_t{100});
  return std::make_unique<WordPiece>(model.at("vocab").get<std::unordered_map<std::string, int32_t>>(), wp);
}

std::string string_or(const json& j, const char* key, const std::string& fallback) {
  return j.contains(key) && !j[key].is_null() ? j[key].get<std::string>() : fallback;
}

// HF writes merges as "left right" (exactly one space) or, since 0.20, as ["left", "right"].
std::vector<std::pair<std::string, std::string>> parse_merges(const json& merges, const std::string& where) {
  if (!merges.is_array()) fail(where, "model.merges", "expected a list");
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    const std::string field = "model.merges[" + std::to_string(i) + "]";
    if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      continue;
    }
    const std::string line = m.is_string() ? m.get<std::string>() : m.dump();
    const size_t space = m.is_string() ? line.find(' ') : std::string::npos;
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      fail(where, field, "expected \"left right\" (one space) or [\"left\", \"right\"], got " + line);
    }
    out.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return out;
}

std::unique_ptr<TokenizerModel> parse_bpe(const json& model, const std::string& where) {
  if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"].get<double>() != 0.0) {
    fail(where, "model.dropout", "BPE dropout is for training; only null or 0 is supported");
  }
  if (model.value("byte_fallback", false)) {
    fail(where, "model.byte_fallback", "true is not supported (SentencePiece-style BPE)");
  }
  BpeOptions o;
  if (model.contains("unk_token") && !model["unk_token"].is_null()) {
    o.unk_token = model["unk_token"].get<std::string>();
  }
  o.continuing_subword_prefix = string_or(model, "continuing_subword_prefix", "");
  o.end_of_word_suffix = string_or(model, "end_of_word_suffix", "");
  o.fuse_unk = model.value("fuse_unk", false);
  o.ignore_merges = model.value("ignore_merges", false);
  return std::make_unique<Bpe>(model.at("vocab").get<std::unordered_map<std::string, int32_t>>(),
                               parse_merges(model.at("merges"), where), std::move(o));
}

std::unique_ptr<TokenizerModel> parse_model(const json& model, const std::string& where) {
  const std::string type = model.value("type", "");
  try {
    if (type == "WordPiece") return parse_wordpiece(model);
    if (type == "BPE") return parse_bpe(model, where);
  } catch (const DataError& e) {
    if (std::string(e.what()).rfind(where, 0) == 0) throw;
    throw DataError(where + ": model: " + e.what());
  }
  fail(where, "model.type", "\"" + type + "\" is not supported (WordPiece or BPE)");
}

void parse_pre_tokenizer(const json& j, const std::string& where, TokenizerParts& parts) {
  if (j.is_null()) {
    parts.pre_tokenizer = PreTokenizerKind::kNone;
    return;
  }
  const std::string type = j.value("type", "");
  if (type == "BertPreTokenizer") {
    parts.pre_tokenizer = PreTokenizerKind::kBert;
  } else if (type == "ByteLevel") {
    parts.pre_tokenizer = PreTokenizerKind::kByteLevel;
    parts.byte_level.add_prefix_space = j.value("add_prefix_space", true);
    parts.byte_level.use_regex = j.value("use_regex", true);
  } else {
    fail(where, "pre_tokenizer.type", "\"" + type + "\" is not supported (BertPreTokenizer, ByteLevel or null)");
  }
}

DecoderOptions parse_decoder(const json& j) {
  DecoderOptions d;
  if (j.is_null()) return d;
  d.type = j.value("type", "");
  if (d.type == "ByteLevel") {
    d.kind = DecoderKind::kByteLevel;
  } else if (d.type == "WordPiece") {
    d.kind = DecoderKind::kWordPiece;
    d.prefix = j.value("prefix", "##");
    d.cleanup = j.value("cleanup", true);
  } else {
    d.kind = DecoderKind::kUnsupported;  // encoding still works; decode() names it
  }
  return d;
}

}  // namespace

Tokenizer Tokenizer::from_json_string(std::string_view text, const std::string& where) {
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    throw DataError(where + ": not valid JSON (" + e.what() + ")");
  }
  try {
    TokenizerParts parts;
    parts.model = parse_model(j.at("model"), where);
    if (j.contains("normalizer") && !j["normalizer"].is_null()) {
      parts.normalizer.emplace(parse_normalizer(j["normalizer"], where));
    }
    parse_pre_tokenizer(j.value("pre_tokenizer", json()), where, parts);
    parts.decoder = parse_decoder(j.value("decoder", json()));
    if (j.contains("post_processor") && !j["post_processor"].is_null()) {
      parse_processor(j["post_processor"], where, parts);
    }
    for (const json& t : j.value("added_tokens", json::array())) {
      const std::string content = t.at("content").get<std::string>();
      if (t.value("normalized", false) || t.value("lstrip", false) || t.value("rstrip", false) ||
          t.value("single_word", false)) {
        fail(where, "added_tokens[\"" + content + "\"]",
             "only normalized=false tokens without lstrip/rstrip/single_word are supported");
      }
      parts.added.push_back({content, t.at("id").get<int32_t>(), t.value("special", false)});
    }
    if (j.contains("truncation") && !j["truncation"].is_null()) {
      parts.truncation = parse_truncation(j["truncation"], where);
    }
    if (j.contains("padding") && !j["padding"].is_null()) {
      parts.padding = parse_padding(j["padding"], where);
    }
    return Tokenizer(std::move(parts));
  } catch (const json::exception& e) {
    throw DataError(where + ": unexpected tokenizer.json layout (" + e.what() + ")");
  }
}

Tokenizer Tokenizer::from_json_file(const std::string& path) {
  return from_json_string(read_file(path, "tokenizer.json"), path);
}

Tokenizer Tokenizer::from_vocab_file(const std::string& path, const VocabFileOptions& options) {
  std::istringstream in(read_file(path, "vocab.txt"));
  std::unordered_map<std::string, int32_t> vocab;
  std::string line;
  int32_t id = 0;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.pop_back();
    }
    vocab.insert_or_assign(line, id++);  // as HF's WordPiece::read_file: a repeated line takes the later id
  }
  TokenizerParts parts;
  parts.normalizer.emplace(options.normalizer);
  for (const std::string* s : {&options.pad_token, &options.wordpiece.unk_token,
                               &options.cls_token, &options.sep_token, &options.mask_token}) {
    const auto it = vocab.find(*s);
    if (it != vocab.end()) parts.added.push_back({*s, it->second, true});
  }
  const auto need = [&](const std::string& token, const char* role) {
    const auto it = vocab.find(token);
    if (it == vocab.end()) {
      throw DataError(path + ": the " + std::string(role) + " token \"" + token +
                      "\" is not in the vocabulary; pass the vocab's own special tokens");
    }
    return it->second;
  };
  parts.processor = bert_template(need(options.cls_token, "cls"), need(options.sep_token, "sep"));
  parts.decoder.kind = DecoderKind::kWordPiece;
  parts.decoder.prefix = options.wordpiece.continuing_subword_prefix;
  parts.model = std::make_unique<WordPiece>(std::move(vocab), options.wordpiece);
  return Tokenizer(std::move(parts));
}

}  // namespace medtrain::data::text

namespace medtrain::data::text {

void Tokenizer::add_vocabulary_file(const std::string& path) {
  std::istringstream in(read_file(path, "vocabulary.txt"));
  std::string line;
  int32_t id = 0;
  std::vector<AddedTokenSpec> extra;
  for (; std::getline(in, line); ++id) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;  // the last line's newline; an empty token cannot be matched anyway
    const std::string& known = id_to_token(id);
    if (known.empty()) {
      extra.push_back({line, id, true});
    } else if (known != line) {
      throw DataError(path + ":" + std::to_string(id + 1) + ": id " + std::to_string(id) + " is \"" + line +
                      "\" here but \"" + known + "\" in the tokenizer; the vocabulary belongs to another model");
    }
  }
  for (const AddedTokenSpec& t : extra) add_token(t);
}

}  // namespace medtrain::data::text
