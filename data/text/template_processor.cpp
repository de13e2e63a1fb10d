#include "data/text/template_processor.h"

namespace medtrain::data::text {
namespace {

void append(Encoding& out, const Encoding& seq, int32_t type_id) {
  for (size_t i = 0; i < seq.size(); ++i) {
    out.push(seq.ids[i], type_id, seq.special_tokens_mask[i], seq.sequence_ids[i], seq.offsets[i],
             seq.byte_offsets[i]);
  }
}

}  // namespace

TemplateProcessor::TemplateProcessor(std::vector<TemplatePiece> single,
                                     std::vector<TemplatePiece> pair)
    : single_(std::move(single)), pair_(std::move(pair)), has_template_(true) {}

size_t TemplateProcessor::added_tokens(bool pair) const {
  size_t n = 0;
  for (const TemplatePiece& p : pair ? pair_ : single_) {
    if (!p.is_sequence) n += p.special_ids.size();
  }
  return n;
}

Encoding TemplateProcessor::apply(Encoding a, const Encoding* b) const {
  if (!has_template_) {
    if (b) append(a, *b, 1);
    return a;
  }
  Encoding out;
  const size_t n = a.size() + (b ? b->size() : 0) + added_tokens(b != nullptr);
  out.ids.reserve(n);
  for (const TemplatePiece& p : b ? pair_ : single_) {
    if (p.is_sequence) {
      append(out, p.sequence == 0 ? a : *b, p.type_id);
    } else {
      for (int32_t id : p.special_ids) out.push(id, p.type_id, 1, -1, {}, {});
    }
  }
  out.invalid_utf8_replacements = a.invalid_utf8_replacements + (b ? b->invalid_utf8_replacements : 0);
  out.truncated_tokens = a.truncated_tokens + (b ? b->truncated_tokens : 0);
  return out;
}

}  // namespace medtrain::data::text
