// tokenize_tool: drives data/text's tokenizer from the Python parity tests and
// the benchmark (a test tool, not a medtrain subcommand).
//   tokenize_tool --tokenizer tokenizer.json --in lines.txt --out enc.jsonl [--raw] [--pairs] [--hex]
//   tokenize_tool --tokenizer tokenizer.json --in ids.txt --out text.jsonl --decode
//   tokenize_tool --tokenizer tokenizer.json --in lines.txt --bench 5
// Lines are split on '\n' only (other bytes, invalid UTF-8 included, are kept);
// with --hex each line is the hex of the text's bytes (so a text may hold '\n');
// with --pairs a line is "A\tB". --raw turns off the file's truncation and padding.
// --vocabulary adds a CTranslate2 vocabulary.txt's extra tokens (Whisper's timestamps).
// Output: one JSON object per line: ids, type_ids, attention_mask,
// special_tokens_mask, offsets (code points), byte_offsets, replacements.
// --decode: each line holds ids separated by spaces; the output has "skip" and
// "keep", the text decoded with and without skip_special_tokens.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "data/text/tokenizer.h"

namespace text = medtrain::data::text;

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string from_hex(const std::string& hex) {
  if (hex.size() % 2) throw std::runtime_error("--hex: odd line length");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string decode_line(const text::Tokenizer& t, const std::string& line) {
  std::vector<int32_t> ids;
  std::istringstream in(line);
  for (int64_t id; in >> id;) ids.push_back(static_cast<int32_t>(id));
  const nlohmann::json row = {{"skip", t.decode(ids, true)}, {"keep", t.decode(ids, false)}};
  return row.dump() + "\n";
}

template <typename T>
void put_array(std::string& out, const char* name, const std::vector<T>& v) {
  out += '"';
  out += name;
  out += "\":[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(v[i]);
  }
  out += ']';
}

void put_offsets(std::string& out, const char* name, const std::vector<text::Offset>& v) {
  out += '"';
  out += name;
  out += "\":[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    out += '[' + std::to_string(v[i].start) + ',' + std::to_string(v[i].end) + ']';
  }
  out += ']';
}

std::string to_json(const text::Encoding& e) {
  std::string out = "{";
  put_array(out, "ids", e.ids);
  out += ',';
  put_array(out, "type_ids", e.type_ids);
  out += ',';
  put_array(out, "attention_mask", e.attention_mask);
  out += ',';
  put_array(out, "special_tokens_mask", e.special_tokens_mask);
  out += ',';
  put_offsets(out, "offsets", e.offsets);
  out += ',';
  put_offsets(out, "byte_offsets", e.byte_offsets);
  out += ",\"replacements\":" + std::to_string(e.invalid_utf8_replacements);
  out += ",\"overflowing\":" + std::to_string(e.overflowing.size()) + "}\n";
  return out;
}

text::Encoding encode(const text::Tokenizer& t, const std::string& line, bool pairs) {
  if (!pairs) return t.encode(line);
  const size_t tab = line.find('\t');
  if (tab == std::string::npos) return t.encode(line);
  return t.encode_pair(std::string_view(line).substr(0, tab), std::string_view(line).substr(tab + 1));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tokenize lines with data/text (test tool)"};
  std::string tokenizer_path, in_path, out_path, vocabulary_path;
  bool raw = false, pairs = false, hex = false, decode = false;
  int bench = 0;
  app.add_option("--tokenizer", tokenizer_path, "tokenizer.json")->required();
  app.add_option("--in", in_path, "input lines")->required();
  app.add_option("--out", out_path, "output JSONL");
  app.add_flag("--raw", raw, "no truncation or padding");
  app.add_flag("--pairs", pairs, "lines are A<TAB>B pairs");
  app.add_flag("--hex", hex, "lines are hex-encoded bytes");
  app.add_flag("--decode", decode, "lines are ids; write the decoded text");
  app.add_option("--vocabulary", vocabulary_path, "a CTranslate2 vocabulary.txt to add");
  app.add_option("--bench", bench, "time N passes; print lines/s per pass");
  CLI11_PARSE(app, argc, argv);
  try {
    text::Tokenizer tok = text::Tokenizer::from_json_file(tokenizer_path);
    if (raw) {
      tok.set_truncation(std::nullopt);
      tok.set_padding(std::nullopt);
    }
    if (!vocabulary_path.empty()) tok.add_vocabulary_file(vocabulary_path);
    std::vector<std::string> lines = read_lines(in_path);
    if (hex) {
      for (std::string& l : lines) l = from_hex(l);
    }
    if (bench > 0) {
      size_t sink = 0;
      for (int r = 0; r < bench; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        for (const std::string& l : lines) sink += encode(tok, l, pairs).size();
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("%.1f\n", lines.size() / s);
      }
      std::fprintf(stderr, "tokens: %zu\n", sink);
      return 0;
    }
    std::ofstream out(out_path, std::ios::binary);
    if (!out) throw std::runtime_error("cannot write " + out_path);
    for (const std::string& l : lines) out << (decode ? decode_line(tok, l) : to_json(encode(tok, l, pairs)));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenize_tool: %s\n", e.what());
    return 2;
  }
}
