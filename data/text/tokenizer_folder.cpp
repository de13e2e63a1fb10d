#include "data/text/tokenizer_folder.h"

#include <fmt/format.h>

#include <filesystem>

#include "data/data_error.h"
#include "data/shard/digest.h"

namespace medtrain::data::text {

namespace fs = std::filesystem;

std::string tokenizer_file_name(const std::string& dir) {
  std::error_code ec;
  if (fs::is_regular_file(fs::path(dir) / "tokenizer.json", ec)) return "tokenizer.json";
  if (fs::is_regular_file(fs::path(dir) / "vocab.txt", ec)) return "vocab.txt";
  throw DataError(fmt::format("{}: no tokenizer.json or vocab.txt (the tokenizer of model.pretrained)", dir));
}

std::string tokenizer_sha256(const std::string& dir) {
  return shard::sha256_file_hex((fs::path(dir) / tokenizer_file_name(dir)).string());
}

Tokenizer load_folder_tokenizer(const std::string& dir, int64_t max_length) {
  const std::string name = tokenizer_file_name(dir);
  const std::string path = (fs::path(dir) / name).string();
  Tokenizer tok = name == "tokenizer.json" ? Tokenizer::from_json_file(path) : Tokenizer::from_vocab_file(path);
  TruncationOptions cut;
  cut.max_length = static_cast<size_t>(max_length);
  tok.set_truncation(cut);
  tok.set_padding(std::nullopt);
  return tok;
}

}  // namespace medtrain::data::text
