#include "data/text/padding.h"

namespace medtrain::data::text {

size_t padded_length(size_t longest, const PaddingOptions& options) {
  size_t length = options.fixed_length == 0 ? longest : options.fixed_length;
  const size_t m = options.pad_to_multiple_of;
  if (m > 0 && length % m != 0) length += m - length % m;
  return length;
}

void pad_encoding(Encoding& enc, size_t length, const PaddingOptions& options) {
  for (Encoding& o : enc.overflowing) pad_encoding(o, length, options);
  if (enc.size() >= length) return;
  const size_t n = length - enc.size();
  const auto grow = [&](auto& v, auto value) {
    if (options.left) {
      v.insert(v.begin(), n, value);
    } else {
      v.insert(v.end(), n, value);
    }
  };
  grow(enc.ids, options.pad_id);
  grow(enc.type_ids, options.pad_type_id);
  grow(enc.attention_mask, 0);
  grow(enc.special_tokens_mask, 1);
  grow(enc.sequence_ids, -1);
  grow(enc.offsets, Offset{});
  grow(enc.byte_offsets, Offset{});
}

}  // namespace medtrain::data::text
