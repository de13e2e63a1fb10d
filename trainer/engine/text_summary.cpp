#include "trainer/engine/text_summary.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <exception>

#include "data/text/bio_tags.h"
#include "data/text/tokenizer_folder.h"

namespace medtrain::engine {
namespace {

constexpr size_t kMaxCellChars = 400;

std::vector<int64_t> to_vector(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU, torch::kLong).reshape({-1}).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// A Markdown table cell: '|' would end it and a line break the row; '`'
// would open code spans across cells.
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r' || c == '\t') out += ' ';
    else if (c == '`') out += '\'';
    else out += c;
  }
  if (out.size() > kMaxCellChars) {
    size_t cut = kMaxCellChars;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    out = out.substr(0, cut) + " ...";
  }
  return out;
}

}  // namespace

TextDecoder::TextDecoder(const config::Config& cfg) {
  try {
    tokenizer_ = std::make_unique<data::text::Tokenizer>(
        data::text::load_folder_tokenizer(cfg.model.pretrained, cfg.data.max_length));
  } catch (const std::exception& e) {
    note_ = fmt::format("text summaries show token ids: the tokenizer of model.pretrained could not be read ({})",
                        e.what());
  }
}

std::string TextDecoder::text(const torch::Tensor& ids) const {
  const auto v = to_vector(ids);
  if (!tokenizer_) return fmt::format("{}", fmt::join(v, " "));
  return tokenizer_->decode(std::vector<int32_t>(v.begin(), v.end()), /*skip_special_tokens=*/true);
}

std::string TextDecoder::token(int64_t id) const {
  if (!tokenizer_) return std::to_string(id);
  const auto& t = tokenizer_->id_to_token(static_cast<int32_t>(id));
  return t.empty() ? std::to_string(id) : t;
}

std::string text_table(const std::vector<TextRow>& rows, bool with_prediction) {
  std::string md = with_prediction ? "| # | text | target | predicted |\n|---|---|---|---|\n"
                                   : "| # | text | target |\n|---|---|---|\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    md += fmt::format("| {} | {} | {} |", i + 1, cell(rows[i].text), cell(rows[i].target));
    if (with_prediction) md += fmt::format(" {} |", cell(rows[i].predicted));
    md += '\n';
  }
  return md;
}

std::string tagged_tokens(const TextDecoder& decoder, const torch::Tensor& ids, const torch::Tensor& tags,
                          const std::vector<std::string>& names, const torch::Tensor& scored) {
  const auto id = to_vector(ids), tag = to_vector(tags);
  const auto gold = scored.defined() ? to_vector(scored) : tag;
  std::vector<std::string> out;
  for (size_t i = 0; i < id.size() && i < tag.size() && i < gold.size(); ++i) {
    if (gold[i] == data::text::kIgnoreTag || tag[i] == data::text::kIgnoreTag || tag[i] == 0) continue;
    const auto name = tag[i] > 0 && static_cast<size_t>(tag[i]) < names.size() ? names[static_cast<size_t>(tag[i])]
                                                                               : std::to_string(tag[i]);
    out.push_back(fmt::format("{} ({})", decoder.token(id[i]), name));
  }
  return out.empty() ? "none" : fmt::format("{}", fmt::join(out, ", "));
}

}  // namespace medtrain::engine
