#pragma once
// The offset trimming of the byte-level post-processors (HF
// `processors::{ByteLevel, RobertaProcessing}` with trim_offsets, as GPT-2's
// and RoBERTa's tokenizer.json set it): a token's offsets leave out its leading
// and trailing spaces ('Ġ'), except the one space add_prefix_space put before
// the text, which belongs to no character (its offsets are already those of
// the first character). Runs on each sequence before the template, also when
// special tokens are not added, as in HF.
#include <string>
#include <vector>

#include "data/text/encoding.h"

namespace medtrain::data::text {

struct OffsetTrimming {
  bool enabled = false;
  bool add_prefix_space = false;
};

// Trims e's offsets and byte offsets (and its overflowing windows');
// `id_to_token` gives each id's token string.
void trim_offsets(Encoding& e, const std::vector<std::string>& id_to_token, bool add_prefix_space);

}  // namespace medtrain::data::text
