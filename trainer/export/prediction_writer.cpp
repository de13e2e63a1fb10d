#include "trainer/export/prediction_writer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <string_view>

#include "data/io/user_file.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

std::string quoted(const std::string& s) {
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// RFC 4180: quoted when it holds a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  return quoted(s);
}

// Note [CSV formula injection]
// Text a user or a model card controls (paths, label names) may start with a
// character that makes spreadsheets evaluate the cell as a formula
// (=HYPERLINK(...), +cmd|..., -, @, or a leading tab / carriage return).
// As OWASP recommends, such a cell is prefixed with a single quote and
// enclosed in double quotes; other cells stay as RFC 4180 writes them.
std::string csv_text(const std::string& s) {
  if (s.empty() || std::string_view("=+-@\t\r").find(s[0]) == std::string_view::npos) return csv_field(s);
  return quoted("'" + s);
}

std::string joined(const std::vector<int64_t>& items, const std::vector<std::string>& labels, const char* sep) {
  std::string out;
  for (int64_t i : items) out += (out.empty() ? "" : sep) + (labels.empty() ? std::to_string(i) : labels.at(i));
  return out;
}

// --saliency: every prediction has its files, the first format's is the column.
bool has_saliency(const std::vector<Prediction>& predictions) {
  return !predictions.empty() && !predictions.front().saliency.empty();
}

std::string csv(const std::vector<Prediction>& predictions, const ModelCard& card) {
  const auto& labels = card.labels;
  const bool segmentation = card.task == "segmentation", multilabel = card.task == "multilabel";
  const bool saliency = has_saliency(predictions);
  std::string out = segmentation ? "path,mask,shape" : multilabel ? "path,labels" : "path,label";
  for (const auto& l : labels) out += "," + csv_text((segmentation ? "pixels_" : "prob_") + l);
  out += saliency ? ",saliency\n" : "\n";
  for (const auto& p : predictions) {
    out += csv_text(p.path) + ",";
    if (segmentation) {
      out += csv_text(p.mask) + "," + joined(p.mask_shape, {}, "x");
      for (int64_t n : p.pixels) out += fmt::format(",{}", n);
    } else {
      out += csv_text(multilabel ? joined(p.present, labels, "|") : labels.at(p.label));
      for (float v : p.probabilities) out += fmt::format(",{:.9g}", v);
    }
    if (saliency) out += "," + csv_text(p.saliency.empty() ? std::string() : p.saliency.front().second);
    out += "\n";
  }
  return out;
}

nlohmann::ordered_json json_line(const Prediction& p, const ModelCard& card) {
  const auto& labels = card.labels;
  nlohmann::ordered_json j;
  j["path"] = p.path;
  if (card.task == "segmentation") {
    j["mask"] = p.mask;
    if (!p.masks.empty()) {
      nlohmann::ordered_json masks = nlohmann::ordered_json::object();
      for (const auto& [format, file] : p.masks) masks[format] = file;
      j["masks"] = masks;
    }
    j["shape"] = p.mask_shape;
    nlohmann::ordered_json pixels = nlohmann::ordered_json::object();
    for (size_t k = 0; k < p.pixels.size(); ++k) pixels[labels.at(k)] = p.pixels[k];
    j["pixels"] = pixels;
    return j;
  }
  if (card.task == "multilabel") {
    std::vector<std::string> present;
    for (int64_t i : p.present) present.push_back(labels.at(i));
    j["labels"] = present;
  } else {
    j["label"] = labels.at(p.label);
    j["label_index"] = p.label;
  }
  nlohmann::ordered_json probs = nlohmann::ordered_json::object();
  for (size_t k = 0; k < p.probabilities.size(); ++k) probs[labels.at(k)] = p.probabilities[k];
  j["probabilities"] = probs;
  j["logits"] = p.logits;
  if (!p.saliency.empty()) {
    nlohmann::ordered_json files = nlohmann::ordered_json::object();
    for (const auto& [format, file] : p.saliency) files[format] = file;
    j["saliency"] = files;
  }
  return j;
}

std::string jsonl(const std::vector<Prediction>& predictions, const ModelCard& card) {
  std::string out;
  for (const auto& p : predictions) out += json_line(p, card).dump() + "\n";
  return out;
}

}  // namespace

void check_output_path(const std::filesystem::path& out) {
  const auto ext = out.extension();
  if (ext != ".csv" && ext != ".jsonl") {
    throw UserError("--out " + data::io::display_path(out.string()) + ": expected a .csv or .jsonl file name");
  }
}

std::string predictions_text(const std::filesystem::path& out, const std::vector<Prediction>& predictions,
                             const ModelCard& card) {
  check_output_path(out);
  return out.extension() == ".csv" ? csv(predictions, card) : jsonl(predictions, card);
}

}  // namespace medtrain::exporter
