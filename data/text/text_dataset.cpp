#include "data/text/text_dataset.h"

#include <fmt/format.h>

#include <algorithm>

#include "data/data_error.h"
#include "data/text/bio_tags.h"
#include "data/text/text_manifest.h"
#include "data/text/tokenizer.h"
#include "data/text/tokenizer_folder.h"

namespace medtrain::data::text {
namespace {

size_t index_of(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

// BIO tags of one encoding from its row's spans (code points). A token belongs
// to the span that holds its first character; the first such token is B-.
std::vector<int32_t> tag_tokens(const Encoding& enc, const TextRow& row, const std::vector<std::string>& types,
                                uint32_t& spans_cut) {
  std::vector<int32_t> tags(enc.size(), static_cast<int32_t>(kIgnoreTag));
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
      tags[i] = static_cast<int32_t>(seen[span] ? inside_tag(type) : begin_tag(type));
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

// Every row, whatever the split: the train and val readers, and `medtrain
// pack`, accept and refuse the same file.
void check_one_label(const TextManifest& m, const TextDatasetOptions& o) {
  if (o.target != TextTarget::kClass) return;
  for (const TextRow& row : m.rows) {
    if (row.labels.size() != 1) {
      throw DataError(fmt::format("{}:{}: multiclass needs exactly one name in \"labels\", found {}", o.manifest,
                                  row.line, row.labels.size()));
    }
  }
}

// The target of one row, as text_example.h describes it.
std::vector<int32_t> row_target(const Encoding& enc, const TextRow& row, const TextDatasetOptions& o,
                                uint32_t& spans_cut) {
  switch (o.target) {
    case TextTarget::kTags: return tag_tokens(enc, row, o.label_names, spans_cut);
    case TextTarget::kClass: return {static_cast<int32_t>(index_of(o.label_names, row.labels[0]))};
    case TextTarget::kMultiLabel: break;
  }
  std::vector<int32_t> hot(o.label_names.size(), 0);
  for (const auto& name : row.labels) hot[index_of(o.label_names, name)] = 1;
  return hot;
}

}  // namespace

TokenisedManifest tokenise_text_manifest(const TextDatasetOptions& o) {
  if (o.max_length < 3) throw DataError(fmt::format("text: max_length {} leaves no room for text", o.max_length));
  TextManifestOptions mo;
  mo.path = o.manifest;
  // Names are checked here, for the field this target reads (a report manifest
  // may carry both findings and PHI spans), on every row whatever the split, so
  // that the train and val readers accept and refuse the same file.
  const TextManifest manifest = read_text_manifest(mo);
  check_names(manifest, o);
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
  check_one_label(manifest, o);
  const Tokenizer tok = load_folder_tokenizer(o.tokenizer_dir, o.max_length);
  TokenisedManifest out;
  const int32_t pad = tok.token_to_id("[PAD]");
  out.pad_id = pad >= 0 ? pad : 0;
  for (const TextRow& row : manifest.rows) {
    if (!o.split.empty() && row.split != o.split) continue;
    const Encoding enc = tok.encode(row.text);
    TextExample e;
    e.id = row.id;
    e.patient = row.patient;
    e.split = row.split;
    e.line = row.line;
    e.ids = enc.ids;
    e.truncated = enc.truncated_tokens > 0;
    e.invalid_utf8 = static_cast<uint32_t>(enc.invalid_utf8_replacements);
    e.target = row_target(enc, row, o, e.spans_cut);
    out.examples.push_back(std::move(e));
  }
  return out;
}

std::shared_ptr<TextDataset> make_text_dataset(const TextDatasetOptions& o, std::string source,
                                               std::vector<TextExample> examples, int64_t pad_id) {
  auto ds = std::shared_ptr<TextDataset>(new TextDataset());
  ds->options_ = o;
  ds->source_ = std::move(source);
  ds->pad_id_ = pad_id;
  for (const TextExample& e : examples) {
    ds->stats_.texts += 1;
    ds->stats_.truncated += e.truncated ? 1 : 0;
    ds->stats_.spans_cut += e.spans_cut;
    ds->stats_.invalid_utf8 += e.invalid_utf8;
    ds->stats_.longest = std::max<int64_t>(ds->stats_.longest, static_cast<int64_t>(e.ids.size()));
  }
  ds->examples_ = std::move(examples);
  return ds;
}

std::shared_ptr<TextDataset> open_text_dataset(const TextDatasetOptions& o) {
  TokenisedManifest t = tokenise_text_manifest(o);
  return make_text_dataset(o, o.manifest, std::move(t.examples), t.pad_id);
}

Sample TextDataset::get(size_t index, uint64_t /*rng_seed*/) const {
  const TextExample& e = examples_.at(index);
  Sample s;
  s.image = torch::tensor(std::vector<int64_t>(e.ids.begin(), e.ids.end()), torch::kInt64);
  switch (options_.target) {
    case TextTarget::kTags:
      s.target = torch::tensor(std::vector<int64_t>(e.target.begin(), e.target.end()), torch::kInt64);
      break;
    case TextTarget::kClass: s.target = torch::tensor(static_cast<int64_t>(e.target.at(0)), torch::kInt64); break;
    case TextTarget::kMultiLabel:
      s.target = torch::tensor(std::vector<float>(e.target.begin(), e.target.end()), torch::kFloat32);
      break;
  }
  return s;
}

std::string TextDataset::describe(size_t index) const {
  const TextExample& e = examples_.at(index);
  return fmt::format("{}:{} (id {})", source_, e.line, e.id);
}

int64_t TextDataset::label(size_t index) const {
  return options_.target == TextTarget::kClass ? examples_.at(index).target.at(0) : 0;
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
