#include "trainer/export/prediction_writer.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string csv(const std::vector<Prediction>& predictions, const std::vector<std::string>& labels) {
  std::string out = "path,label";
  for (const auto& l : labels) out += "," + csv_field("prob_" + l);
  out += "\n";
  for (const auto& p : predictions) {
    out += csv_field(p.path) + "," + csv_field(labels.at(p.label));
    for (float v : p.probabilities) out += fmt::format(",{:.9g}", v);
    out += "\n";
  }
  return out;
}

std::string jsonl(const std::vector<Prediction>& predictions, const std::vector<std::string>& labels) {
  std::string out;
  for (const auto& p : predictions) {
    nlohmann::ordered_json j;
    j["path"] = p.path;
    j["label"] = labels.at(p.label);
    j["label_index"] = p.label;
    nlohmann::ordered_json probs = nlohmann::ordered_json::object();
    for (size_t k = 0; k < p.probabilities.size(); ++k) probs[labels.at(k)] = p.probabilities[k];
    j["probabilities"] = probs;
    j["logits"] = p.logits;
    out += j.dump() + "\n";
  }
  return out;
}

}  // namespace

void check_output_path(const std::filesystem::path& out) {
  const auto ext = out.extension();
  if (ext != ".csv" && ext != ".jsonl") {
    throw UserError("--out " + out.string() + ": expected a .csv or .jsonl file name");
  }
}

std::string predictions_text(const std::filesystem::path& out, const std::vector<Prediction>& predictions,
                             const std::vector<std::string>& labels) {
  check_output_path(out);
  return out.extension() == ".csv" ? csv(predictions, labels) : jsonl(predictions, labels);
}

}  // namespace medtrain::exporter
