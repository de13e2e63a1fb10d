#pragma once
// Truncation (HF `utils::truncation`): applied to the sequence encodings
// before post-processing, with a budget of max_length minus the template's
// special tokens. longest_first trims the longer sequence of a pair (ending
// with halves of the budget when both are long); only_first / only_second
// trim one sequence and fail when it is too short to absorb the excess.
// Truncation is from the right unless direction is left.
#include <cstddef>

#include "data/text/encoding.h"

namespace medtrain::data::text {

enum class TruncationStrategy { kLongestFirst, kOnlyFirst, kOnlySecond };

struct TruncationOptions {
  size_t max_length = 512;
  size_t stride = 0;  // overlap of the overflowing windows (single sequences)
  TruncationStrategy strategy = TruncationStrategy::kLongestFirst;
  bool left = false;  // truncate from the left
};

// Cuts `enc` to `max_len` tokens; the cut-off windows go to enc.overflowing when
// `keep_overflow` (each of max_len tokens, consecutive windows sharing `stride`).
void truncate_encoding(Encoding& enc, size_t max_len, size_t stride, bool left, bool keep_overflow);

// Truncates a (possibly paired) encoding to `budget` text tokens in total.
// Throws DataError when only_first/only_second cannot make it fit.
void truncate_pair(Encoding& a, Encoding* b, size_t budget, const TruncationOptions& options);

}  // namespace medtrain::data::text
