#include "trainer/export/model_card.h"

#include <fmt/format.h>
#include <c10/util/Exception.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "trainer/config/config_schema.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

// Shortest round-trip decimal; YAML's spellings for the non-finite values.
std::string number(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  return fmt::format("{}", v);
}

class Reader {
 public:
  Reader(const YAML::Node& root, std::string where) : root_(root), where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& key, const YAML::Node& at, const std::string& why) const {
    const std::string line = at.IsDefined() && at.Mark().line >= 0 ? fmt::format(":{}", at.Mark().line + 1) : "";
    throw UserError(fmt::format("{}{}: {}: {}", where_, line, key, why));
  }

  YAML::Node get(const std::string& section, const std::string& key) const {
    const std::string path = section.empty() ? key : section + "." + key;
    const YAML::Node parent = section.empty() ? root_ : root_[section];
    if (!parent.IsDefined() || !parent.IsMap()) fail(path, root_, "missing (is this a medtrain model bundle?)");
    const YAML::Node node = parent[key];
    if (!node.IsDefined() || node.IsNull()) fail(path, parent, "missing");
    return node;
  }

  template <typename T>
  T as(const std::string& section, const std::string& key, const char* type) const {
    const YAML::Node node = get(section, key);
    try {
      return node.as<T>();
    } catch (const YAML::Exception&) {
      fail(section.empty() ? key : section + "." + key, node, std::string("expected ") + type);
    }
  }

  template <typename T>
  std::map<std::string, T> map(const std::string& key, const char* type) const {
    std::map<std::string, T> out;
    const YAML::Node node = root_[key];
    if (!node.IsDefined() || node.IsNull()) return out;
    if (!node.IsMap()) fail(key, node, "expected a mapping");
    for (const auto& kv : node) {
      try {
        out[kv.first.as<std::string>()] = kv.second.as<T>();
      } catch (const YAML::Exception&) {
        fail(key + "." + kv.first.Scalar(), kv.second, std::string("expected ") + type);
      }
    }
    return out;
  }

 private:
  YAML::Node root_;
  std::string where_;
};

template <typename T>
void bounded(const Reader& r, const std::string& key, const YAML::Node& at, const char* config_key, T value) {
  const config::detail::KeySpec* spec = config::detail::find_key(config_key);
  TORCH_INTERNAL_ASSERT(spec != nullptr, config_key);
  if (auto why = config::detail::check_value(*spec, config::detail::Value(value))) {
    r.fail(key, at, fmt::format("{} (as {} in a config)", *why, config_key));
  }
}

void check_volume(const ModelCard& c, const Reader& r, const YAML::Node& pre) {
  const Preprocessing& p = c.preprocessing;
  bounded(r, "preprocessing.slice_spacing", pre["slice_spacing"], "data.slice_spacing", p.slice_spacing);
  bounded(r, "preprocessing.pixel_spacing", pre["pixel_spacing"], "data.pixel_spacing", p.pixel_spacing);
  if ((p.slice_spacing > 0) != (p.pixel_spacing > 0)) {
    r.fail("preprocessing.slice_spacing", pre["slice_spacing"], "slice_spacing and pixel_spacing come together");
  }
  if (p.depth == 0 && (p.slice_spacing > 0 || pre["roi"].IsDefined())) {
    r.fail("preprocessing.roi", pre["roi"], "volume keys in a 2D bundle (depth 0)");
  }
  const std::array<int64_t, 3> most{p.depth, p.image_size, p.image_size};
  for (size_t k = 0; k < 3 && p.depth > 0; ++k) {
    if (p.roi[k] < 1 || p.roi[k] > most[k]) {
      r.fail("preprocessing.roi", pre["roi"], fmt::format("expected 3 sides in 1..[{}, {}, {}]", most[0], most[1], most[2]));
    }
  }
}

void check_card(const ModelCard& c, const Reader& r, const YAML::Node& root) {
  if (static_cast<int64_t>(c.labels.size()) != c.num_classes) {
    r.fail("labels", root["labels"],
           fmt::format("{} names for num_classes {}", c.labels.size(), c.num_classes));
  }
  if (c.text_max_length > 0) {  // a text bundle: no image preprocessing
    if (c.task != "multiclass" && c.task != "multilabel" && c.task != "token_classification") {
      r.fail("task", root["task"], "'" + c.task + "' is not multiclass, multilabel or token_classification");
    }
    bounded(r, "num_classes", root["num_classes"], "model.num_classes", c.num_classes);
    bounded(r, "text.max_length", root["text"]["max_length"], "data.max_length", c.text_max_length);
    return;
  }
  const YAML::Node pre = root["preprocessing"];
  if (c.task != "multiclass" && c.task != "multilabel" && c.task != "segmentation") {
    r.fail("task", root["task"], "'" + c.task + "' is not multiclass, multilabel or segmentation");
  }
  // Note [Bundles bounded like configs]: every value that came from a config
  // key is checked by that key's own constraint, so a hand-edited model.yaml
  // cannot ask for what training would refuse (image_size 99999999999, std 1e-320).
  const Preprocessing& p = c.preprocessing;
  bounded(r, "num_classes", root["num_classes"], "model.num_classes", c.num_classes);
  bounded(r, "in_channels", root["in_channels"], "model.in_channels", c.in_channels);
  bounded(r, "preprocessing.depth", pre["depth"], "data.depth", p.depth);
  bounded(r, "preprocessing.image_size", pre["image_size"], "data.image_size", p.image_size);
  bounded(r, "preprocessing.window_center", pre["window_center"], "data.window_center", p.window_center);
  bounded(r, "preprocessing.window_width", pre["window_width"], "data.window_width", p.window_width);
  bounded(r, "preprocessing.mean", pre["mean"], "data.mean", p.mean);
  bounded(r, "preprocessing.std", pre["std"], "data.std", p.std);
  bounded(r, "preprocessing.colour", pre["colour"], "data.colour", p.colour);
  if (p.colour == "rgb" && c.in_channels != 3) {
    r.fail("preprocessing.colour", pre["colour"], "rgb needs in_channels 3");
  }
  check_volume(c, r, pre);
}

void emit_text(YAML::Emitter& out, const ModelCard& c) {
  out << YAML::Key << "text" << YAML::Value << YAML::BeginMap << YAML::Key << "max_length" << YAML::Value
      << c.text_max_length << YAML::Key << "encoder" << YAML::Value << "encoder" << YAML::EndMap;
}

void emit_preprocessing(YAML::Emitter& out, const Preprocessing& p) {
  out << YAML::Key << "preprocessing" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "window_center" << YAML::Value << number(p.window_center);
  out << YAML::Key << "window_width" << YAML::Value << number(p.window_width);
  out << YAML::Key << "window_from_file" << YAML::Value << p.window_from_file;
  out << YAML::Key << "image_size" << YAML::Value << p.image_size;
  out << YAML::Key << "depth" << YAML::Value << p.depth;
  out << YAML::Key << "mean" << YAML::Value << number(p.mean);
  out << YAML::Key << "std" << YAML::Value << number(p.std);
  out << YAML::Key << "colour" << YAML::Value << p.colour;
  if (p.has_spacing()) {
    out << YAML::Key << "slice_spacing" << YAML::Value << number(p.slice_spacing);
    out << YAML::Key << "pixel_spacing" << YAML::Value << number(p.pixel_spacing);
  }
  if (p.depth > 0 && p.roi[0] > 0) {
    out << YAML::Key << "roi" << YAML::Value << YAML::Flow << std::vector<int64_t>(p.roi.begin(), p.roi.end());
  }
  out << YAML::EndMap;
}

// Keys added with whole-volume inference; older bundles lack them.
void read_volume(const Reader& r, const YAML::Node& pre, Preprocessing& p) {
  if (pre["slice_spacing"].IsDefined()) p.slice_spacing = r.as<double>("preprocessing", "slice_spacing", "mm");
  if (pre["pixel_spacing"].IsDefined()) p.pixel_spacing = r.as<double>("preprocessing", "pixel_spacing", "mm");
  p.roi = {p.depth, p.image_size, p.image_size};
  if (pre["roi"].IsDefined()) {
    const auto roi = r.as<std::vector<int64_t>>("preprocessing", "roi", "[depth, rows, cols]");
    if (roi.size() != 3) r.fail("preprocessing.roi", pre["roi"], "expected [depth, rows, cols]");
    p.roi = {roi[0], roi[1], roi[2]};
  }
}

void read_preprocessing(const Reader& r, const YAML::Node& root, Preprocessing& p) {
  p.window_center = r.as<double>("preprocessing", "window_center", "a number");
  p.window_width = r.as<double>("preprocessing", "window_width", "a number");
  p.window_from_file = r.as<bool>("preprocessing", "window_from_file", "true or false");
  p.image_size = r.as<int64_t>("preprocessing", "image_size", "an integer");
  if (root["preprocessing"]["depth"].IsDefined()) p.depth = r.as<int64_t>("preprocessing", "depth", "an integer");
  p.mean = r.as<double>("preprocessing", "mean", "a number");
  p.std = r.as<double>("preprocessing", "std", "a number");
  if (root["preprocessing"]["colour"].IsDefined()) {
    p.colour = r.as<std::string>("preprocessing", "colour", "luma or rgb");
  }
  read_volume(r, root["preprocessing"], p);
}

}  // namespace

std::string model_card_yaml(const ModelCard& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "format" << YAML::Value << kModelCardFormat;
  out << YAML::Key << "architecture" << YAML::Value << c.architecture;
  out << YAML::Key << "task" << YAML::Value << c.task;
  out << YAML::Key << "num_classes" << YAML::Value << c.num_classes;
  out << YAML::Key << "in_channels" << YAML::Value << c.in_channels;
  const int64_t s = c.preprocessing.image_size, d = c.preprocessing.depth;
  const bool text = c.text_max_length > 0;
  // A text model.onnx takes exactly text.max_length ids (text_to_onnx.h); the
  // safetensors model any length up to it.
  const bool fixed_text = text && c.onnx_opset > 0;
  const auto shape = fixed_text ? std::vector<int64_t>{-1, c.text_max_length}
                     : text     ? std::vector<int64_t>{-1, -1}
                     : d > 0    ? std::vector<int64_t>{-1, c.in_channels, d, s, s}
                                : std::vector<int64_t>{-1, c.in_channels, s, s};
  const char* input_name = text ? "input_ids" : "input";
  out << YAML::Key << "input" << YAML::Value << YAML::BeginMap << YAML::Key << "name" << YAML::Value << input_name
      << YAML::Key << "shape" << YAML::Value << YAML::Flow << shape << YAML::Key << "dtype" << YAML::Value
      << (text ? "int64" : "float32") << YAML::Key << "layout" << YAML::Value
      << (fixed_text ? "token ids, padded to text.max_length with the tokenizer's pad id"
          : text     ? "token ids, padded"
          : d > 0    ? "NCDHW"
                     : "NCHW")
      << YAML::EndMap;
  // Quoted: a label named "0" or "yes" stays a string for every YAML reader.
  out << YAML::Key << "labels" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& l : c.labels) out << YAML::DoubleQuoted << l;
  out << YAML::EndSeq;
  const Preprocessing& p = c.preprocessing;
  if (c.text_max_length > 0) {
    emit_text(out, c);
  } else {
    emit_preprocessing(out, p);
  }
  out << YAML::Key << "training" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "step" << YAML::Value << c.step << YAML::Key << "epoch" << YAML::Value << c.epoch;
  out << YAML::Key << "config_sha256" << YAML::Value << YAML::DoubleQuoted << c.config_sha256;
  out << YAML::Key << "checkpoint" << YAML::Value << c.checkpoint;
  out << YAML::Key << "torch_version" << YAML::Value << c.torch_version;
  out << YAML::Key << "medtrain_version" << YAML::Value << c.medtrain_version;
  out << YAML::EndMap;
  out << YAML::Key << "metrics" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : c.metrics) out << YAML::Key << k << YAML::Value << number(v);
  out << YAML::EndMap;
  if (c.onnx_opset > 0) {
    out << YAML::Key << "onnx" << YAML::Value << YAML::BeginMap << YAML::Key << "file" << YAML::Value << kOnnxFile
        << YAML::Key << "opset" << YAML::Value << c.onnx_opset << YAML::Key << "inputs" << YAML::Value
        << YAML::Flow << std::vector<std::string>{input_name} << YAML::Key << "outputs" << YAML::Value
        << YAML::Flow << std::vector<std::string>{"logits", "probabilities"} << YAML::EndMap;
  }
  out << YAML::Key << "files" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : c.files) out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
  out << YAML::EndMap << YAML::EndMap;
  return std::string("# medtrain model bundle (docs/export.md)\n") + out.c_str() + "\n";
}

ModelCard parse_model_card(const std::string& text, const std::string& where) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw UserError(fmt::format("{}:{}: not valid YAML: {}", where, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) throw UserError(where + ": not a medtrain model card (expected a mapping)");
  Reader r(root, where);
  const auto format = r.as<std::string>("", "format", "a string");
  if (format != kModelCardFormat) {
    r.fail("format", root["format"], fmt::format("'{}' is not {} (made by another version?)", format, kModelCardFormat));
  }
  ModelCard c;
  c.architecture = r.as<std::string>("", "architecture", "a model name");
  // Bundles exported before segmentation and multilabel support have no task.
  if (root["task"].IsDefined()) c.task = r.as<std::string>("", "task", "a task name");
  c.num_classes = r.as<int64_t>("", "num_classes", "an integer");
  c.in_channels = r.as<int64_t>("", "in_channels", "an integer");
  c.labels = r.as<std::vector<std::string>>("", "labels", "a list of names");
  Preprocessing& p = c.preprocessing;
  if (root["text"].IsDefined()) {
    c.text_max_length = r.as<int64_t>("text", "max_length", "an integer");
    if (c.text_max_length < 1) r.fail("text.max_length", root["text"]["max_length"], "must be >= 1");
  } else {
    read_preprocessing(r, root, p);
  }
  c.step = r.as<int64_t>("training", "step", "an integer");
  c.epoch = r.as<int64_t>("training", "epoch", "an integer");
  c.config_sha256 = r.as<std::string>("training", "config_sha256", "a string");
  c.checkpoint = r.as<std::string>("training", "checkpoint", "a string");
  c.torch_version = r.as<std::string>("training", "torch_version", "a string");
  c.medtrain_version = r.as<std::string>("training", "medtrain_version", "a string");
  c.metrics = r.map<double>("metrics", "a number");
  if (root["onnx"].IsDefined()) c.onnx_opset = r.as<int64_t>("onnx", "opset", "an integer");
  c.files = r.map<std::string>("files", "a SHA-256 string");
  check_card(c, r, root);
  return c;
}

ModelCard read_model_card(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw UserError("--model " + data::io::display_path(dir.string()) + ": not a directory (a bundle made by `medtrain export`)");
  }
  const auto path = dir / kModelCardFile;
  if (!std::filesystem::exists(path, ec)) {
    throw UserError("--model " + data::io::display_path(dir.string()) + ": no " + kModelCardFile +
                    "; not a medtrain model bundle");
  }
  std::string text;
  try {
    text = data::io::read_user_file(path.string(), "model card", data::io::kMaxSmallJsonBytes);
  } catch (const data::DataError& e) {
    throw UserError(e.what());
  }
  return parse_model_card(text, path.string());
}

}  // namespace medtrain::exporter
