#include "trainer/export/text_inference.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/text/text_manifest.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/dist/world.h"
#include "trainer/engine/device_choice.h"
#include "trainer/metrics/entity_metrics.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;
using data::text::Encoding;

constexpr uint64_t kMaxTextFileBytes = uint64_t{16} << 20;

struct TextInput {
  std::string id, text;
};

std::vector<TextInput> collect_texts(const fs::path& in) {
  std::error_code ec;
  std::vector<TextInput> out;
  auto read_txt = [&](const fs::path& file, std::string id) {
    out.push_back({std::move(id), data::io::read_user_file(file.string(), "text file", kMaxTextFileBytes)});
  };
  // As for DICOM inputs (infer_inputs.cpp): links are followed, so a dangling one is missing too.
  if (!fs::exists(in, ec)) throw UserError("--in " + data::io::display_path(in.string()) + ": no such file or folder");
  if (fs::is_directory(in, ec)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(in, ec)) {
      if (e.is_regular_file(ec) && e.path().extension() == ".txt") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) read_txt(f, f.lexically_relative(in).string());
  } else if (in.extension() == ".jsonl") {
    data::text::TextManifestOptions o;
    o.path = in.string();
    o.allow_empty_text = true;  // a silent dictation's transcript (docs/asr.md, "From dictation to labels")
    for (auto& row : data::text::read_text_manifest(o).rows) out.push_back({row.id, row.text});
  } else if (in.extension() == ".txt") {
    read_txt(in, in.filename().string());
  } else {
    throw UserError("--in " + data::io::display_path(in.string()) +
                    ": expected a .jsonl manifest, a .txt file or a folder of .txt files");
  }
  if (out.empty()) throw UserError("--in " + data::io::display_path(in.string()) + ": no texts found");
  return out;
}

// [CLS] tokens [SEP] as the model saw them in training.
std::vector<int64_t> framed(const TextBundle& b, const std::vector<int32_t>& ids, size_t from, size_t count) {
  std::vector<int64_t> out{b.tokenizer->token_to_id("[CLS]")};
  for (size_t i = from; i < from + count; ++i) out.push_back(ids[i]);
  out.push_back(b.tokenizer->token_to_id("[SEP]"));
  return out;
}

size_t text_window(const TextBundle& b) { return static_cast<size_t>(std::max<int64_t>(1, b.card.text_max_length - 2)); }

}  // namespace

torch::Tensor text_logits(const TextBundle& b, const std::vector<std::vector<int64_t>>& rows) {
  size_t longest = 0;
  for (const auto& r : rows) longest = std::max(longest, r.size());
  auto ids = torch::full({static_cast<int64_t>(rows.size()), static_cast<int64_t>(longest)},
                         b.model->config().pad_token_id, torch::kInt64);
  for (size_t i = 0; i < rows.size(); ++i) {
    ids[static_cast<int64_t>(i)].narrow(0, 0, static_cast<int64_t>(rows[i].size()))
        .copy_(torch::tensor(rows[i], torch::kInt64));
  }
  torch::NoGradGuard no_grad;
  return b.model->forward(ids.to(b.device)).to(torch::kFloat32).cpu();
}

std::vector<int64_t> classification_ids(const TextBundle& b, const std::string& text, bool* truncated) {
  const Encoding enc = b.tokenizer->encode(text, /*add_special_tokens=*/false);
  const size_t keep = std::min(enc.ids.size(), text_window(b));
  if (truncated) *truncated = keep < enc.ids.size();
  return framed(b, enc.ids, 0, keep);
}

// Note [Tagging windows]: a text longer than the model's window is tagged in
// windows of max_length - 2 tokens that overlap by a quarter; each token takes
// the tags of the window in which it sits furthest from an edge, so that every
// token is read with context on both sides where the text allows.
namespace {

// The best tag of every position of every window, and its probability.
struct WindowTags {
  std::vector<std::vector<int64_t>> tag;
  std::vector<std::vector<float>> probability;
};

// Windows go through the model a chunk at a time: a long report must not need
// memory in proportion to its length (one forward of all windows did).
constexpr size_t kWindowsPerForward = 16;

WindowTags tag_windows(const TextBundle& b, const std::vector<std::vector<int64_t>>& rows) {
  WindowTags out;
  for (size_t first = 0; first < rows.size(); first += kWindowsPerForward) {
    const std::vector<std::vector<int64_t>> chunk(rows.begin() + static_cast<std::ptrdiff_t>(first),
                                                  rows.begin() + static_cast<std::ptrdiff_t>(
                                                                     std::min(rows.size(), first + kWindowsPerForward)));
    const auto [probability, tag] = text_logits(b, chunk).softmax(-1).max(-1);  // [chunk, L]
    const torch::Tensor p = probability.to(torch::kFloat).contiguous(), t = tag.to(torch::kLong).contiguous();
    const auto length = static_cast<size_t>(p.size(1));
    for (int64_t k = 0; k < p.size(0); ++k) {
      out.probability.emplace_back(p[k].data_ptr<float>(), p[k].data_ptr<float>() + length);
      out.tag.emplace_back(t[k].data_ptr<int64_t>(), t[k].data_ptr<int64_t>() + length);
    }
  }
  return out;
}

}  // namespace

std::vector<TextSpanPrediction> tag_text(const TextBundle& b, const std::string& text) {
  const Encoding enc = b.tokenizer->encode(text, /*add_special_tokens=*/false);
  const size_t n = enc.ids.size(), w = text_window(b), step = std::max<size_t>(1, w - w / 4);
  if (n == 0) return {};
  std::vector<size_t> starts{0};
  while (starts.back() + w < n) starts.push_back(std::min(starts.back() + step, n - std::min(n, w)));
  std::vector<std::vector<int64_t>> rows;
  for (size_t s : starts) rows.push_back(framed(b, enc.ids, s, std::min(w, n - s)));
  const WindowTags windows = tag_windows(b, rows);
  std::vector<std::string> tags(n);
  std::vector<float> confidence(n);
  for (size_t t = 0; t < n; ++t) {
    // The window that sees the token farthest from its edges decides.
    size_t best = starts.size(), margin = 0;
    for (size_t k = 0; k < starts.size(); ++k) {
      const size_t len = std::min(w, n - starts[k]);
      if (t < starts[k] || t >= starts[k] + len) continue;
      const size_t m = std::min(t - starts[k], starts[k] + len - 1 - t);
      if (best == starts.size() || m > margin) best = k, margin = m;
    }
    const size_t at = t - starts[best] + 1;  // +1: the window starts with [CLS]
    tags[t] = b.tags.at(static_cast<size_t>(windows.tag[best][at]));
    confidence[t] = windows.probability[best][at];
  }
  std::vector<TextSpanPrediction> spans;
  for (const auto& e : metrics::bio_entities(tags)) {
    TextSpanPrediction s;
    s.start = enc.offsets[static_cast<size_t>(e.start)].start;
    s.end = enc.offsets[static_cast<size_t>(e.end - 1)].end;
    s.label = e.type;
    for (int64_t t = e.start; t < e.end; ++t) s.score += confidence[static_cast<size_t>(t)];
    s.score /= static_cast<float>(e.end - e.start);
    spans.push_back(std::move(s));
  }
  return spans;
}

TextInferSummary run_text_inference(const InferOptions& o) {
  if (o.out.extension() != ".jsonl") {
    throw UserError("--out " + data::io::display_path(o.out.string()) + ": text predictions are written as .jsonl");
  }
  const auto choice = engine::choose_device(o.device, dist::World{});
  const TextBundle b = load_text_bundle(o.model_dir, choice.device);
  TextInferSummary summary;
  summary.device = choice.reason;
  const std::vector<TextInput> inputs = collect_texts(o.in);
  summary.texts = inputs.size();
  for (const auto& input : inputs) summary.empty += input.text.empty() ? 1 : 0;
  std::string lines;
  const bool tagging = b.card.task == "token_classification";
  for (size_t first = 0; first < inputs.size(); first += o.batch_size) {
    const size_t last = std::min(inputs.size(), first + o.batch_size);
    if (tagging) {
      for (size_t i = first; i < last; ++i) {
        nlohmann::json row{{"id", inputs[i].id}, {"spans", nlohmann::json::array()}};
        for (const auto& s : tag_text(b, inputs[i].text)) {
          row["spans"].push_back({{"start", s.start}, {"end", s.end}, {"label", s.label}, {"score", s.score}});
        }
        lines += row.dump() + "\n";
      }
      continue;
    }
    std::vector<std::vector<int64_t>> rows;
    for (size_t i = first; i < last; ++i) {
      bool truncated = false;
      rows.push_back(classification_ids(b, inputs[i].text, &truncated));
      summary.truncated += truncated ? 1 : 0;
    }
    const torch::Tensor logits = text_logits(b, rows);
    const bool multiclass = b.card.task == "multiclass";
    const torch::Tensor probs = multiclass ? logits.softmax(-1) : logits.sigmoid();
    for (size_t i = first; i < last; ++i) {
      const auto p = probs[static_cast<int64_t>(i - first)];
      nlohmann::json row{{"id", inputs[i].id}};
      nlohmann::json named = nlohmann::json::object();
      for (size_t k = 0; k < b.card.labels.size(); ++k) named[b.card.labels[k]] = p[static_cast<int64_t>(k)].item<float>();
      if (multiclass) {
        row["label"] = b.card.labels.at(static_cast<size_t>(p.argmax().item<int64_t>()));
      } else {
        row["labels"] = nlohmann::json::array();
        for (size_t k = 0; k < b.card.labels.size(); ++k) {
          if (p[static_cast<int64_t>(k)].item<float>() >= 0.5f) row["labels"].push_back(b.card.labels[k]);
        }
      }
      row["probabilities"] = named;
      lines += row.dump() + "\n";
    }
  }
  checkpoint::write_file_atomic(o.out, lines);
  return summary;
}

}  // namespace medtrain::exporter
