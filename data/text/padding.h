#pragma once
// Padding (HF `utils::padding`): to a fixed length or to the longest encoding
// of a batch, then up to a multiple of pad_to_multiple_of. Pad tokens get
// attention 0, special_tokens_mask 1, offsets (0, 0). Never shortens.
#include <cstdint>
#include <string>
#include <vector>

#include "data/text/encoding.h"

namespace medtrain::data::text {

struct PaddingOptions {
  size_t fixed_length = 0;  // 0: pad to the longest of the batch ("BatchLongest")
  size_t pad_to_multiple_of = 0;
  bool left = false;
  int32_t pad_id = 0;
  int32_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};

// The length to pad to, given the longest encoding (of a batch, or the one).
size_t padded_length(size_t longest, const PaddingOptions& options);
// Pads `enc` (and its overflowing windows) to `length`.
void pad_encoding(Encoding& enc, size_t length, const PaddingOptions& options);

}  // namespace medtrain::data::text
