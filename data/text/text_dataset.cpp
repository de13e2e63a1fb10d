#include "data/text/text_dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "data/data_error.h"
#include "data/text/bio_tags.h"
#include "data/text/text_manifest.h"
#include "data/text/tokenizer.h"

namespace medtrain::data::text {
namespace {

namespace fs = std::filesystem;

Tokenizer load_tokenizer(const TextDatasetOptions& o) {
  const fs::path dir(o.tokenizer_dir);
  std::error_code ec;
  Tokenizer tok = fs::is_regular_file(dir / "tokenizer.json", ec) ? Tokenizer::from_json_file(dir / "tokenizer.json")
                  : fs::is_regular_file(dir / "vocab.txt", ec)
                      ? Tokenizer::from_vocab_file(dir / "vocab.txt")
                      : throw DataError(fmt::format("{}: no tokenizer.json or vocab.txt (the tokenizer of "
                                                    "model.pretrained)",
                                                    o.tokenizer_dir));
  TruncationOptions cut;
  cut.max_length = static_cast<size_t>(o.max_length);
  tok.set_truncation(cut);
  tok.set_padding(std::nullopt);  // the loader pads each batch (Note [Ragged samples])
  return tok;
}

size_t index_of(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

// BIO tags of one encoding from its row's spans (code points). A token belongs
// to the span that holds its first character; the first such token is B-.
std::vector<int64_t> tag_tokens(const Encoding& enc, const TextRow& row, const std::vector<std::string>& types,
                                size_t& spans_cut) {
  std::vector<int64_t> tags(enc.size(), kIgnoreTag);
  size_t span = 0;
  std::vector<bool> seen(row.spans.size(), false);
  int64_t read_up_to = 0;  // the end of the last text token kept
  for (size_t i = 0; i < enc.size(); ++i) {
    if (enc.special_tokens_mask[i] != 0) continue;
    const int64_t start = enc.offsets[i].start;
    read_up_to = std::max<int64_t>(read_up_to, enc.offsets[i].end);
    while (span < row.spans.size() && row.spans[span].end <= start) ++span;
    if (span < row.spans.size() && row.spans[span].start <= start) {
      const size_t type = index_of(types, row.spans[span].label);
      tags[i] = seen[span] ? inside_tag(type) : begin_tag(type);
      seen[span] = true;
    } else {
      tags[i] = 0;  // O
    }
  }
  // A span that ends past the last token kept was cut short or lost by
  // truncation; one no token starts in (inside a single token) is lost too.
  for (size_t k = 0; k < row.spans.size(); ++k) spans_cut += !seen[k] || row.spans[k].end > read_up_to ? 1 : 0;
  return tags;
}

void check_names(const TextManifest& m, const TextDatasetOptions& o) {
  const auto& names = o.label_names;
  auto known = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  auto fail = [&](const TextRow& row, const char* what, const std::string& n) {
    std::string list;
    for (const auto& k : names) list += (list.empty() ? "" : ", ") + k;
    throw DataError(fmt::format("{}:{}: {} \"{}\" is not in data.label_names ({})", m.path, row.line, what, n, list));
  };
  for (const TextRow& row : m.rows) {
    if (o.target == TextTarget::kTags) {
      for (const auto& span : row.spans) {
        if (!known(span.label)) fail(row, "span label", span.label);
      }
    } else {
      for (const auto& n : row.labels) {
        if (!known(n)) fail(row, "label", n);
      }
    }
  }
}

}  // namespace

std::shared_ptr<TextDataset> open_text_dataset(const TextDatasetOptions& o) {
  if (o.max_length < 3) throw DataError(fmt::format("text: max_length {} leaves no room for text", o.max_length));
  TextManifestOptions mo;
  mo.path = o.manifest;
  // Names are checked here, for the field this target reads (a report manifest
  // may carry both findings and PHI spans), on every row whatever the split, so
  // that the train and val readers accept and refuse the same file.
  TextManifest manifest = read_text_manifest(mo);
  check_names(manifest, o);
  if (!o.split.empty()) {
    std::vector<TextRow> kept;
    for (auto& row : manifest.rows) {
      if (row.split == o.split) kept.push_back(std::move(row));
    }
    manifest.rows = std::move(kept);
  }
  if (o.target == TextTarget::kTags && !manifest.has_spans) {
    throw DataError(fmt::format("{}: token tagging needs \"spans\" in the rows; none has them", o.manifest));
  }
  if (o.target != TextTarget::kTags && !manifest.has_labels) {
    throw DataError(fmt::format("{}: text classification needs \"labels\" in the rows; none has them", o.manifest));
  }
  if (o.label_names.empty()) {
    throw DataError(fmt::format("{}: data.label_names must list the {}", o.manifest,
                                o.target == TextTarget::kTags ? "entity types of the spans" : "labels"));
  }
  const Tokenizer tok = load_tokenizer(o);
  auto ds = std::shared_ptr<TextDataset>(new TextDataset());
  ds->options_ = o;
  ds->manifest_path_ = o.manifest;
  const int32_t pad = tok.token_to_id("[PAD]");
  ds->pad_id_ = pad >= 0 ? pad : 0;
  for (const TextRow& row : manifest.rows) {
    const Encoding enc = tok.encode(row.text);
    ds->stats_.texts += 1;
    ds->stats_.truncated += enc.truncated_tokens > 0 ? 1 : 0;
    ds->stats_.invalid_utf8 += enc.invalid_utf8_replacements;
    ds->stats_.longest = std::max<int64_t>(ds->stats_.longest, static_cast<int64_t>(enc.size()));
    ds->ids_.emplace_back(enc.ids.begin(), enc.ids.end());
    ds->row_ids_.push_back(row.id);
    ds->lines_.push_back(row.line);
    switch (o.target) {
      case TextTarget::kTags:
        ds->tags_.push_back(tag_tokens(enc, row, o.label_names, ds->stats_.spans_cut));
        break;
      case TextTarget::kClass:
        if (row.labels.size() != 1) {
          throw DataError(fmt::format("{}:{}: multiclass needs exactly one name in \"labels\", found {}", o.manifest,
                                      row.line, row.labels.size()));
        }
        ds->classes_.push_back(static_cast<int64_t>(index_of(o.label_names, row.labels[0])));
        break;
      case TextTarget::kMultiLabel: {
        std::vector<float> hot(o.label_names.size(), 0.0f);
        for (const auto& name : row.labels) hot[index_of(o.label_names, name)] = 1.0f;
        ds->multi_.push_back(std::move(hot));
        break;
      }
    }
  }
  return ds;
}

Sample TextDataset::get(size_t index, uint64_t /*rng_seed*/) const {
  const auto& ids = ids_.at(index);
  Sample s;
  s.image = torch::tensor(ids, torch::kInt64);
  switch (options_.target) {
    case TextTarget::kTags: s.target = torch::tensor(tags_[index], torch::kInt64); break;
    case TextTarget::kClass: s.target = torch::tensor(classes_[index], torch::kInt64); break;
    case TextTarget::kMultiLabel: s.target = torch::tensor(multi_[index], torch::kFloat32); break;
  }
  return s;
}

std::string TextDataset::describe(size_t index) const {
  return fmt::format("{}:{} (id {})", manifest_path_, lines_.at(index), row_ids_.at(index));
}

int64_t TextDataset::label(size_t index) const {
  return options_.target == TextTarget::kClass ? classes_.at(index) : 0;
}

RaggedLayout TextDataset::ragged() const {
  RaggedLayout r;
  r.ragged = true;
  r.ragged_target = options_.target == TextTarget::kTags;
  r.input_pad = pad_id_;
  r.target_pad = kIgnoreTag;
  return r;
}

}  // namespace medtrain::data::text
