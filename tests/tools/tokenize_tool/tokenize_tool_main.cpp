// tokenize_tool: drives data/text's tokenizer from the Python parity test and
// the benchmark (a test tool, not a medtrain subcommand).
//   tokenize_tool --tokenizer tokenizer.json --in lines.txt --out enc.jsonl [--raw] [--pairs]
//   tokenize_tool --tokenizer tokenizer.json --in lines.txt --bench 5
// Lines are split on '\n' only (other bytes, invalid UTF-8 included, are kept);
// with --pairs a line is "A\tB". --raw turns off the file's truncation and padding.
// Output: one JSON object per line: ids, type_ids, attention_mask,
// special_tokens_mask, offsets (code points), byte_offsets, replacements.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

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
  std::string tokenizer_path, in_path, out_path;
  bool raw = false, pairs = false;
  int bench = 0;
  app.add_option("--tokenizer", tokenizer_path, "tokenizer.json")->required();
  app.add_option("--in", in_path, "input lines")->required();
  app.add_option("--out", out_path, "output JSONL");
  app.add_flag("--raw", raw, "no truncation or padding");
  app.add_flag("--pairs", pairs, "lines are A<TAB>B pairs");
  app.add_option("--bench", bench, "time N passes; print lines/s per pass");
  CLI11_PARSE(app, argc, argv);
  try {
    text::Tokenizer tok = text::Tokenizer::from_json_file(tokenizer_path);
    if (raw) {
      tok.set_truncation(std::nullopt);
      tok.set_padding(std::nullopt);
    }
    const std::vector<std::string> lines = read_lines(in_path);
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
    for (const std::string& l : lines) out << to_json(encode(tok, l, pairs));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenize_tool: %s\n", e.what());
    return 2;
  }
}
