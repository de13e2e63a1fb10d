#include "data/text/offset_trimming.h"

#include <algorithm>

#include "data/text/byte_level.h"
#include "data/text/unicode_props.h"
#include "data/text/utf8.h"

namespace medtrain::data::text {
namespace {

bool is_space(char32_t c) { return c == byte_to_char(' ') || is_bert_whitespace(c); }

// Leading and trailing space code points of a token.
std::pair<uint32_t, uint32_t> spaces(const std::string& token) {
  const std::u32string chars = decode_utf8_lossy(token).chars;
  uint32_t lead = 0;
  while (lead < chars.size() && is_space(chars[lead])) ++lead;
  uint32_t trail = 0;
  while (trail < chars.size() && is_space(chars[chars.size() - 1 - trail])) ++trail;
  return {lead, trail};
}

// A space is one byte and one code point, so both kinds of offsets move alike.
void trim(Offset& o, uint32_t lead, uint32_t trail) {
  if (lead > 0) o.start = std::min(o.start + lead, o.end);
  if (trail > 0 && o.end >= trail) o.end = std::max(o.end - trail, o.start);
}

}  // namespace

void trim_offsets(Encoding& e, const std::vector<std::string>& id_to_token, bool add_prefix_space) {
  static const std::string kNone;
  for (size_t i = 0; i < e.ids.size(); ++i) {
    const int32_t id = e.ids[i];
    const std::string& token =
        id >= 0 && static_cast<size_t>(id) < id_to_token.size() ? id_to_token[id] : kNone;
    auto [lead, trail] = spaces(token);
    if (lead == 0 && trail == 0) continue;
    // HF: "is first" is the first token, or one whose offsets start at 0.
    if (lead == 1 && add_prefix_space && (i == 0 || e.offsets[i].start == 0)) lead = 0;
    trim(e.offsets[i], lead, trail);
    trim(e.byte_offsets[i], lead, trail);
  }
  for (Encoding& o : e.overflowing) trim_offsets(o, id_to_token, add_prefix_space);
}

}  // namespace medtrain::data::text
