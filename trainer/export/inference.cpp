#include "trainer/export/inference.h"

#include <cstdio>
#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>

#include "data/data_error.h"
#include "data/io/user_file.h"
#include "data/npy_writer.h"
#include "models/cv/inference_graph.h"
#include "models/model_error.h"
#include "models/registry.h"
#include "models/safetensors.h"
#include "models/state_dict.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/checkpoint/sha256.h"
#include "trainer/dist/world.h"
#include "trainer/engine/device_choice.h"
#include "trainer/engine/heap_reuse.h"
#include "trainer/export/cpu_quota.h"
#include "trainer/export/gpu_inference.h"
#include "trainer/export/infer_dataset.h"
#include "trainer/export/infer_inputs.h"
#include "trainer/export/infer_progress.h"
#include "trainer/export/prediction_writer.h"
#include "trainer/export/saliency_outputs.h"
#include "trainer/export/volume_infer.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;


data::DicomDatasetOptions preprocessing_options(const ModelCard& card, const fs::path& model_dir) {
  data::DicomDatasetOptions o;
  o.manifest = (model_dir / kModelCardFile).string();  // named in option errors
  o.image_size = card.preprocessing.image_size;
  o.depth = card.preprocessing.depth;
  o.window_center = card.preprocessing.window_center;
  o.window_width = card.preprocessing.window_width;
  o.window_from_file = card.preprocessing.window_from_file;
  o.rgb = card.preprocessing.colour == "rgb";  // 3-channel input, as in training (Note [RGB input])
  o.mean = card.preprocessing.mean;
  o.std = card.preprocessing.std;
  o.augment = false;
  o.check_files = false;
  return o;
}

// The outputs of one batch -> predictions for the files `index` [B].
class Collector {
 public:
  Collector(const ModelCard& card, const fs::path& out, const std::vector<std::string>& paths)
      : card_(card), out_(out), paths_(paths), predictions_(paths.size()) {}

  void add(const torch::Tensor& index, const torch::Tensor& logits) {
    const torch::Tensor l = logits.to(torch::kCPU, torch::kFloat).contiguous();
    for (int64_t r = 0; r < l.size(0); ++r) {
      const auto i = static_cast<size_t>(index[r].item<int64_t>());
      Prediction pred;
      pred.path = paths_[i];
      if (card_.task == "segmentation") {
        segmentation(l[r], i, pred);
      } else {
        classification(l[r], pred);
      }
      predictions_[i] = std::move(pred);
    }
  }

  // The prediction of input `index`, once add() has seen it; else null.
  Prediction* find(size_t index) { return predictions_.at(index) ? &*predictions_[index] : nullptr; }

  std::vector<Prediction> take() {
    std::vector<Prediction> out;
    for (auto& p : predictions_) {
      if (p) out.push_back(std::move(*p));
    }
    return out;
  }

 private:
  void classification(const torch::Tensor& logits, Prediction& pred) const {
    const bool multilabel = card_.task == "multilabel";
    const torch::Tensor p = (multilabel ? torch::sigmoid(logits) : torch::softmax(logits, 0)).contiguous();
    const int64_t k = logits.size(0);
    pred.logits.assign(logits.data_ptr<float>(), logits.data_ptr<float>() + k);
    pred.probabilities.assign(p.data_ptr<float>(), p.data_ptr<float>() + k);
    pred.label = p.argmax().item<int64_t>();
    for (int64_t j = 0; multilabel && j < k; ++j) {
      if (pred.probabilities[static_cast<size_t>(j)] >= 0.5f) pred.present.push_back(j);
    }
  }

  void segmentation(const torch::Tensor& logits, size_t index, Prediction& pred) const {
    const torch::Tensor classes = logits.argmax(0);  // [(D,) S, S]
    const torch::Tensor mask = classes.to(torch::kUInt8).contiguous();
    const fs::path dir = masks_dir(out_);
    if (!masks_dir_made_) {  // once, with the first mask: a run that predicts nothing leaves no folder
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) throw UserError("--out " + out_.string() + ": cannot create " + dir.string() + ": " + ec.message());
      masks_dir_made_ = true;
    }
    char name[32];
    std::snprintf(name, sizeof(name), "%06zu.npy", index);
    data::write_npy_u8((dir / name).string(), mask.data_ptr<uint8_t>(), mask.sizes().vec());
    pred.mask = (fs::path(dir.filename()) / name).generic_string();
    pred.mask_shape = mask.sizes().vec();
    const torch::Tensor counts = torch::bincount(classes.reshape({-1}), {}, logits.size(0));
    for (int64_t c = 0; c < logits.size(0); ++c) pred.pixels.push_back(counts[c].item<int64_t>());
  }

  const ModelCard& card_;
  fs::path out_;
  const std::vector<std::string>& paths_;
  std::vector<std::optional<Prediction>> predictions_;
  mutable bool masks_dir_made_ = false;
};

// What the bundle can do with the inputs and formats asked for; UserError otherwise.
void check_request(const InferOptions& o, const ModelCard& card) {
  const bool segmentation = card.task == "segmentation";
  const bool whole_volume = segmentation && card.preprocessing.depth > 0 && card.preprocessing.has_spacing();
  for (const std::string& f : o.mask_formats) {
    if (f != "npy" && f != "seg" && f != "nifti") {
      throw UserError("--mask-format: '" + f + "' is not npy, seg or nifti");
    }
    if (f != "npy" && !whole_volume) {
      throw UserError("--mask-format " + f + ": needs a 3D segmentation bundle trained at a voxel size (data.slice_spacing"
                      " / pixel_spacing), whose masks lie on the series' slices; " + o.model_dir.string() +
                      (!segmentation ? " is a " + card.task + " bundle"
                       : card.preprocessing.depth == 0 ? " is 2D"
                                                       : " resized each series to depth x S x S"));
    }
  }
  if (o.mask_formats.empty()) throw UserError("--mask-format: name at least one of npy, seg, nifti");
  if (card.preprocessing.depth == 0) {
    const std::string why = volume_input_reason(o.in);
    if (!why.empty()) {
      throw UserError("--in " + o.in.string() + ": " + why + ", but the bundle is 2D (depth 0) and predicts single "
                      "images; use a 3D bundle");
    }
  }
  if (segmentation) {
    std::error_code ec;
    const fs::path dir = masks_dir(o.out);
    if (fs::exists(dir, ec)) {
      throw UserError("--out " + o.out.string() + ": the masks folder " + dir.string() +
                      " already exists; masks are never overwritten (remove it or choose another --out)");
    }
  }
}

}  // namespace

fs::path masks_dir(const fs::path& out) { return out.parent_path() / (out.stem().string() + "_masks"); }

std::string read_bundle_file(const fs::path& dir, const ModelCard& card, const char* name) {
  const fs::path path = dir / name;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw UserError("--model " + data::io::display_path(dir.string()) + ": " + name +
                    " is missing (export with --format safetensors)");
  }
  std::string bytes;
  try {
    bytes = data::io::read_user_file(path.string(), "bundle file", uint64_t{64} << 30);
  } catch (const data::DataError& e) {
    throw UserError(e.what());
  }
  auto expected = card.files.find(name);
  if (expected == card.files.end()) {
    throw UserError("--model " + dir.string() + ": " + kModelCardFile + " lists no checksum for " + name);
  }
  if (checkpoint::sha256_hex(bytes) != expected->second) {
    throw UserError("--model " + dir.string() + ": " + name + " fails its SHA-256 check against " + kModelCardFile +
                    " (file changed or corrupt)");
  }
  return bytes;
}

LoadedModel load_bundle(const fs::path& dir, const c10::Device& device, bool keep_eval_model) {
  LoadedModel loaded;
  loaded.card = read_model_card(dir);
  loaded.device = device;
  const std::string bytes = read_bundle_file(dir, loaded.card, kWeightsFile);
  const fs::path weights = dir / kWeightsFile;
  try {
    const auto file = models::parse_safetensors(bytes, weights.string());
    loaded.model = models::create_model({loaded.card.architecture, loaded.card.num_classes, loaded.card.in_channels});
    models::load_state_dict(*loaded.model, file.tensors, {true, {}, weights.string()});
  } catch (const models::ModelError& e) {
    throw UserError("--model " + dir.string() + ": " + e.what());
  }
  loaded.model->to(device);
  loaded.model->eval();
  if (keep_eval_model) loaded.eval_model = loaded.model;  // the graph copies what it needs; this stays as trained
  models::InferenceGraph graph = models::inference_graph(loaded.model, loaded.card.architecture, device);
  loaded.model = std::move(graph.model);
  loaded.graph = std::move(graph.description);
  cap_threads_to_cpu_quota();
  engine::keep_heap_between_steps();  // Note [Heap kept between steps]
  return loaded;
}

bool is_text_bundle(const fs::path& dir) { return read_model_card(dir).text_max_length > 0; }

InferSummary run_inference(const InferOptions& o) {
  check_output_path(o.out);
  if (o.batch_size < 1) throw UserError("--batch-size must be >= 1");
  // Saliency asked of a bundle that has no maps to give: refused before the weights load.
  check_saliency_request(o, read_model_card(o.model_dir));
  const auto choice = engine::choose_device(o.device, dist::World{});
  // Refused before the weights load: bf16/fp16 or graphs asked of a CPU run.
  const GpuInference gpu = choose_gpu_inference(o.precision, o.cuda_graphs, choice.device, choice.reason);
  LoadedModel m = load_bundle(o.model_dir, choice.device, !o.saliency.empty());
  m.model = gpu_inference_model(std::move(m.model), gpu, m.device);  // the volume path runs it too
  InferSummary summary;
  summary.device = choice.reason + ", " + gpu.description;
  summary.graph = m.graph;
  if (m.card.preprocessing.depth > 0) summary.unit = "series";
  if (m.card.task == "segmentation" && m.card.num_classes > 256) {
    throw UserError("--model " + o.model_dir.string() + ": masks are written as uint8; " +
                    std::to_string(m.card.num_classes) + " classes do not fit");
  }
  check_request(o, m.card);
  const Preprocessing& p = m.card.preprocessing;
  if (m.card.task == "segmentation" && p.depth > 0 && p.has_spacing()) {
    return run_volume_inference(o, m, std::move(summary));
  }
  std::vector<std::string> paths = m.card.preprocessing.depth > 0 ? collect_series(o.in) : collect_inputs(o.in);
  summary.files = paths.size();
  auto dataset = std::make_shared<InferDataset>(paths, preprocessing_options(m.card, o.model_dir));

  data::LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.workers = o.workers;
  lo.on_error = o.on_error;
  std::vector<size_t> indices(paths.size());
  std::iota(indices.begin(), indices.end(), 0);
  data::BatchLoader loader(dataset, indices, lo);

  Collector collector(m.card, o.out, paths);
  std::optional<SaliencyWriter> saliency;
  if (!o.saliency.empty()) saliency.emplace(o, m.card, m.eval_model, m.device);
  std::vector<torch::Tensor> inputs;  // kept only for --dump-inputs
  torch::NoGradGuard no_grad;
  InferProgress progress(o.progress, "files", static_cast<int64_t>(paths.size()));
  int64_t seen = 0;
  while (auto batch = loader.next()) {
    torch::Tensor x = batch->images;
    // Training feeds one grey channel; a model built for more sees it repeated.
    if (m.card.in_channels != x.size(1)) {
      auto sizes = x.sizes().vec();
      sizes[1] = m.card.in_channels;
      x = x.expand(sizes);
    }
    if (!o.dump_inputs.empty()) inputs.push_back(x.contiguous());
    const torch::Tensor logits = m.model->forward(x.to(m.device));
    collector.add(batch->targets, logits);
    for (int64_t r = 0; saliency && r < x.size(0); ++r) {  // the predicted class, in the graph's logits
      const auto i = static_cast<size_t>(batch->targets[r].item<int64_t>());
      Prediction* pred = collector.find(i);
      pred->saliency = saliency->write(i, paths[i], batch->images[r], x[r], pred->label);
    }
    seen += batch->targets.size(0) + static_cast<int64_t>(batch->skipped);
    progress.done(seen);
  }
  progress.finish();
  for (const auto& [i, reason] : dataset->failures()) summary.skipped.emplace_back(paths[i], reason);
  summary.predictions = collector.take();
  if (saliency) {
    summary.saliency_maps = saliency->maps();
    summary.saliency_dir = saliency->dir();
  }
  if (summary.predictions.empty()) {
    throw UserError("--in " + o.in.string() + ": none of the " + std::to_string(paths.size()) +
                    " files could be read as DICOM" +
                    (summary.skipped.empty() ? "" : " (first: " + summary.skipped.front().second + ")"));
  }
  checkpoint::write_file_atomic(o.out, predictions_text(o.out, summary.predictions, m.card));
  if (!o.dump_inputs.empty()) {
    // Batches arrive in input order, so the rows follow the predictions' order.
    const torch::Tensor all = torch::cat(inputs).contiguous();
    data::write_npy_f32(o.dump_inputs, all.data_ptr<float>(), all.sizes().vec());
  }
  return summary;
}

}  // namespace medtrain::exporter
