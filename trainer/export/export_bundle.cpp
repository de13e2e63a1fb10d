#include "trainer/export/export_bundle.h"

#include <torch/version.h>
#include <unistd.h>

#include <fmt/format.h>

#include <fstream>

#include "data/io/output_lock.h"
#include "data/io/user_file.h"
#include "models/asr/whisper_task_model.h"
#include "models/registry.h"
#include "models/safetensors.h"
#include "models/state_dict.h"
#include "trainer/asr/whisper_folder.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/checkpoint/sha256.h"
#include "trainer/export/bundle_staging.h"
#include "trainer/config/config_loader.h"
#include "models/nlu/text_model.h"
#include "trainer/export/onnx/onnx_graph.h"
#include "trainer/export/text_bundle.h"
#include "trainer/export/text_to_onnx.h"
#include "trainer/export/torch_to_onnx.h"
#include "trainer/export/whisper_bundle.h"
#include "trainer/engine/task.h"
#include "trainer/user_error.h"
#include "trainer/version.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// --out must be absent, an empty directory, or (with overwrite) a directory.
void check_out(const ExportOptions& o) {
  std::error_code ec;
  const auto status = fs::symlink_status(o.out, ec);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status)) throw UserError("--out " + o.out.string() + ": exists and is not a directory");
  if (is_nonempty_dir(o.out) && !o.overwrite) {
    throw UserError("--out " + o.out.string() + ": exists and is not empty; choose a new folder or pass --overwrite");
  }
}

bool inside_or_equal(const fs::path& child, const fs::path& parent) {
  auto c = child.begin();
  for (auto p = parent.begin(); p != parent.end(); ++p, ++c) {
    if (c == child.end() || *c != *p) return false;
  }
  return true;
}

// --out must neither hold the checkpoint nor lie inside it: --overwrite moves
// the old --out aside and deletes it, which would delete the checkpoint being
// exported (or the run's other checkpoints) with it. Both the path as given
// (ckpt/latest) and the step folder it resolves to are checked.
void check_out_apart_from_checkpoint(const ExportOptions& o) {
  std::error_code ec;
  const fs::path out = fs::weakly_canonical(fs::absolute(o.out), ec).lexically_normal();
  const fs::path given = fs::absolute(o.checkpoint).lexically_normal();
  for (const fs::path& ckpt : {given, fs::weakly_canonical(given, ec).lexically_normal(),
                               fs::weakly_canonical(given.parent_path(), ec) / given.filename()}) {
    if (inside_or_equal(ckpt, out) || inside_or_equal(out, ckpt)) {
      throw UserError(fmt::format("--out {}: holds or lies inside the checkpoint {} being exported; choose a folder "
                                  "outside the run's ckpt folder",
                                  data::io::display_path(o.out.string()), data::io::display_path(o.checkpoint.string())));
    }
  }
}

// The run's resolved config, through the loader (validated like any config),
// from a scratch file in `folder` that is removed either way.
config::Config checkpoint_config(const checkpoint::Checkpoint& ckpt, const fs::path& folder, const fs::path& where) {
  const fs::path file = folder / (".medtrain-training-config-" + std::to_string(getpid()) + ".yaml");
  checkpoint::write_file_synced(file, ckpt.config_yaml);
  std::error_code ec;
  try {
    config::Config cfg = config::load_config(file);
    fs::remove(file, ec);
    return cfg;
  } catch (const UserError& e) {
    fs::remove(file, ec);
    throw UserError("checkpoint " + where.string() + ": its config.yaml does not load: " + e.what());
  }
}

ModelCard make_card(const config::Config& cfg, const checkpoint::Checkpoint& ckpt, const fs::path& path) {
  ModelCard card;
  card.architecture = cfg.model.name;
  card.task = engine::task_name(engine::resolve_task(cfg));
  card.num_classes = cfg.model.num_classes;
  card.in_channels = cfg.model.in_channels;
  if (static_cast<int64_t>(cfg.data.label_names.size()) == cfg.model.num_classes) {
    card.labels = cfg.data.label_names;
  } else {
    for (int64_t k = 0; k < cfg.model.num_classes; ++k) card.labels.push_back(std::to_string(k));
  }
  card.preprocessing = {cfg.data.window_center, cfg.data.window_width, cfg.data.window_from_file,
                        cfg.data.image_size,    cfg.data.depth,        cfg.data.mean,
                        cfg.data.std};
  card.preprocessing.colour = cfg.data.colour;
  card.preprocessing.slice_spacing = cfg.data.slice_spacing;
  card.preprocessing.pixel_spacing = cfg.data.pixel_spacing;
  if (cfg.data.depth > 0) {  // the window the model trained on
    const bool patches = cfg.data.patch_size > 0;
    card.preprocessing.roi = {patches && cfg.data.patch_depth > 0 ? cfg.data.patch_depth : cfg.data.depth,
                              patches ? cfg.data.patch_size : cfg.data.image_size,
                              patches ? cfg.data.patch_size : cfg.data.image_size};
  }
  card.step = ckpt.state.step;
  card.epoch = ckpt.state.epoch;
  card.config_sha256 = checkpoint::sha256_hex(ckpt.config_yaml);
  card.checkpoint = fs::absolute(path).lexically_normal().string();
  card.torch_version = ckpt.state.torch_version;
  card.medtrain_version = ckpt.state.medtrain_version;
  card.metrics = ckpt.state.last_eval;
  return card;
}

std::string onnx_bytes(models::ImageModel& model, const ModelCard& card) {
  OnnxExportSpec spec{card.architecture, card.in_channels, card.preprocessing.image_size, card.num_classes,
                      card.task, card.preprocessing.depth};
  OnnxGraph graph = image_model_to_onnx(model, spec);
  graph.producer_version = kVersion;
  graph.metadata = {{"architecture", card.architecture},
                    {"step", std::to_string(card.step)},
                    {"config_sha256", card.config_sha256}};
  return serialize_onnx_model(graph);  // OnnxBuildError is our bug, not the user's: exit 1
}

// Inputs padded to text.max_length: see text_to_onnx.h.
std::string text_onnx_bytes(models::nlu::BertTaskModel& model, const ModelCard& card) {
  TextOnnxSpec spec{card.architecture, card.task, card.text_max_length, card.num_classes};
  OnnxGraph graph = text_model_to_onnx(model, spec);
  graph.producer_version = kVersion;
  graph.metadata = {{"architecture", card.architecture},
                    {"step", std::to_string(card.step)},
                    {"config_sha256", card.config_sha256},
                    {"text_max_length", std::to_string(card.text_max_length)}};
  return serialize_onnx_model(graph);
}

}  // namespace

ExportFormats parse_formats(const std::string& list) {
  ExportFormats f;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = trim(list.substr(start, comma - start));
    if (item == "safetensors") {
      f.safetensors = true;
    } else if (item == "onnx") {
      f.onnx = true;
    } else {
      throw UserError("--format " + list + ": " + (item.empty() ? "empty entry" : "unknown format '" + item + "'") +
                      " (known: safetensors, onnx)");
    }
    start = comma + 1;
  }
  return f;
}

namespace {

// An asr checkpoint: the Whisper of model.pretrained's architecture with the
// checkpoint's weights, exported as a Whisper bundle (whisper_bundle.h), which
// takes its own lock and staging folder.
ExportResult export_speech_bundle(const ExportOptions& o, const checkpoint::Checkpoint& ckpt,
                                  const config::Config& cfg) {
  auto folder = [&] {
    try {
      return asr::load_whisper_folder(cfg.model.pretrained);
    } catch (const std::exception& e) {
      throw UserError("checkpoint " + o.checkpoint.string() + ": its model.pretrained (the architecture and the "
                      "tokenizer) does not load: " + e.what());
    }
  }();
  models::asr::WhisperTaskModel model(folder.model);
  models::load_state_dict(model, ckpt.model, {true, {}, "checkpoint " + o.checkpoint.string()});
  WhisperExportOptions w;
  w.formats = o.formats;
  w.overwrite = o.overwrite;
  w.source = o.checkpoint.string();
  w.provenance = {{"step", std::to_string(ckpt.state.step)},
                  {"config_sha256", checkpoint::sha256_hex(ckpt.config_yaml)},
                  {"pretrained", cfg.model.pretrained}};
  ExportResult result;
  result.checkpoint = o.checkpoint;
  result.files = export_whisper_bundle(folder.model, cfg.model.pretrained, o.out, w).files;
  result.card.architecture = "whisper";
  result.card.task = "asr";
  result.card.step = ckpt.state.step;
  return result;
}

}  // namespace

ExportResult export_bundle(const ExportOptions& o) {
  if (!o.formats.safetensors && !o.formats.onnx) throw UserError("--format: name at least one of safetensors, onnx");
  check_out(o);
  check_out_apart_from_checkpoint(o);
  ExportResult result;
  result.checkpoint = o.checkpoint;
  const checkpoint::Checkpoint ckpt = checkpoint::load_checkpoint(o.checkpoint);  // verifies every checksum
  const config::Config cfg = checkpoint_config(ckpt, fs::temp_directory_path(), o.checkpoint);
  if (engine::is_speech(cfg)) return export_speech_bundle(o, ckpt, cfg);

  const fs::path out_abs = fs::absolute(o.out).lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(out_abs.parent_path(), ec)) {
    throw UserError("--out " + o.out.string() + ": parent folder " + out_abs.parent_path().string() + " does not exist");
  }
  // Two exports into one --out would each replace the other's bundle.
  const data::io::OutputLock lock(out_abs.parent_path().string(), "export",
                                  "." + out_abs.filename().string() + ".medtrain-export.lock");
  BundleStaging staging(o.out);
  ModelCard card = make_card(cfg, ckpt, o.checkpoint);
  auto write = [&](const char* name, const std::string& bytes) {
    checkpoint::write_file_synced(staging.dir() / name, bytes);
    card.files[name] = checkpoint::sha256_hex(bytes);
    result.files.push_back(name);
  };
  if (engine::is_text(cfg)) {
    auto text = models::nlu::create_text_model(
        cfg.model.pretrained,
        card.task == "token_classification" ? models::nlu::TextHead::kToken : models::nlu::TextHead::kSequence,
        card.num_classes, /*weights=*/false);
    models::load_state_dict(*text, ckpt.model, {true, {}, "checkpoint " + o.checkpoint.string()});
    write_text_bundle(cfg, *text, staging.dir(), card, result.files);
    if (o.formats.onnx) {
      write(kOnnxFile, text_onnx_bytes(*text, card));
      card.onnx_opset = kOnnxOpset;
    }
  } else {
    auto model = models::create_model({card.architecture, card.num_classes, card.in_channels});
    models::load_state_dict(*model, ckpt.model, {true, {}, "checkpoint " + o.checkpoint.string()});
    if (o.formats.safetensors) {
      write(kWeightsFile, models::safetensors_bytes(models::state_dict(*model),
                                                    {{"format", "pt"}, {"architecture", card.architecture}}));
    }
    if (o.formats.onnx) {
      write(kOnnxFile, onnx_bytes(*model, card));
      card.onnx_opset = kOnnxOpset;
    }
  }
  checkpoint::write_file_synced(staging.dir() / kModelCardFile, model_card_yaml(card));
  result.files.push_back(kModelCardFile);
  staging.commit();
  result.card = std::move(card);
  return result;
}

}  // namespace medtrain::exporter
