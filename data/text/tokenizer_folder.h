#pragma once
// The tokenizer of a model folder (model.pretrained): tokenizer.json when
// present, else vocab.txt. Training from JSONL, `medtrain pack` of reports and
// the check that a text pack fits the config all name the file through here,
// so they cannot disagree about which file the tokens depend on.
#include <cstdint>
#include <string>

#include "data/text/tokenizer.h"

namespace medtrain::data::text {

// "tokenizer.json" or "vocab.txt"; DataError naming the folder when it has neither.
std::string tokenizer_file_name(const std::string& dir);
// SHA-256 (lower-case hex) of that file: what a pack records of the tokenizer.
std::string tokenizer_sha256(const std::string& dir);
// The folder's tokenizer, truncating at max_length tokens, without padding
// (the loader pads each batch: Note [Ragged samples] in data/dataset.h).
Tokenizer load_folder_tokenizer(const std::string& dir, int64_t max_length);

}  // namespace medtrain::data::text
