#include "trainer/export/inference.h"

#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>

#include "data/npy_writer.h"
#include "models/model_error.h"
#include "models/registry.h"
#include "models/safetensors.h"
#include "models/state_dict.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/checkpoint/sha256.h"
#include "trainer/dist/world.h"
#include "trainer/engine/device_choice.h"
#include "trainer/export/infer_dataset.h"
#include "trainer/export/infer_inputs.h"
#include "trainer/export/prediction_writer.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

namespace fs = std::filesystem;

std::string read_bundle_file(const fs::path& dir, const ModelCard& card, const char* name) {
  const fs::path path = dir / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("--model " + dir.string() + ": " + name + " is missing (export with --format safetensors)");
  std::stringstream buf;
  buf << in.rdbuf();
  std::string bytes = buf.str();
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

data::DicomDatasetOptions preprocessing_options(const ModelCard& card, const fs::path& model_dir) {
  data::DicomDatasetOptions o;
  o.manifest = (model_dir / kModelCardFile).string();  // named in option errors
  o.image_size = card.preprocessing.image_size;
  o.window_center = card.preprocessing.window_center;
  o.window_width = card.preprocessing.window_width;
  o.window_from_file = card.preprocessing.window_from_file;
  o.mean = card.preprocessing.mean;
  o.std = card.preprocessing.std;
  o.augment = false;
  o.check_files = false;
  return o;
}

// Rows of `probs` / `logits` [B, K] -> predictions for the files `index` [B].
void collect(const torch::Tensor& index, const torch::Tensor& logits, const std::vector<std::string>& paths,
             std::vector<std::optional<Prediction>>& out) {
  const torch::Tensor l = logits.to(torch::kCPU, torch::kFloat).contiguous();
  const torch::Tensor p = torch::softmax(l, 1).contiguous();
  const int64_t k = l.size(1);
  for (int64_t r = 0; r < l.size(0); ++r) {
    const auto i = static_cast<size_t>(index[r].item<int64_t>());
    Prediction pred;
    pred.path = paths[i];
    pred.logits.assign(l[r].data_ptr<float>(), l[r].data_ptr<float>() + k);
    pred.probabilities.assign(p[r].data_ptr<float>(), p[r].data_ptr<float>() + k);
    pred.label = p[r].argmax().item<int64_t>();
    out[i] = std::move(pred);
  }
}

}  // namespace

LoadedModel load_bundle(const fs::path& dir, const c10::Device& device) {
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
  return loaded;
}

InferSummary run_inference(const InferOptions& o) {
  check_output_path(o.out);
  if (o.batch_size < 1) throw UserError("--batch-size must be >= 1");
  const auto choice = engine::choose_device(o.device, dist::World{});
  LoadedModel m = load_bundle(o.model_dir, choice.device);
  InferSummary summary;
  summary.device = choice.reason;
  std::vector<std::string> paths = collect_inputs(o.in);
  summary.files = paths.size();
  auto dataset = std::make_shared<InferDataset>(paths, preprocessing_options(m.card, o.model_dir));

  data::LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.workers = o.workers;
  lo.on_error = o.on_error;
  std::vector<size_t> indices(paths.size());
  std::iota(indices.begin(), indices.end(), 0);
  data::BatchLoader loader(dataset, indices, lo);

  std::vector<std::optional<Prediction>> predictions(paths.size());
  std::vector<torch::Tensor> inputs;  // kept only for --dump-inputs
  torch::NoGradGuard no_grad;
  while (auto batch = loader.next()) {
    torch::Tensor x = batch->images;
    // Training feeds one grey channel; a model built for more sees it repeated.
    if (m.card.in_channels != x.size(1)) x = x.expand({x.size(0), m.card.in_channels, x.size(2), x.size(3)});
    if (!o.dump_inputs.empty()) inputs.push_back(x.contiguous());
    const torch::Tensor logits = m.model->forward(x.to(m.device));
    collect(batch->targets, logits, paths, predictions);
  }
  for (const auto& [i, reason] : dataset->failures()) summary.skipped.emplace_back(paths[i], reason);
  for (auto& p : predictions) {
    if (p) summary.predictions.push_back(std::move(*p));
  }
  if (summary.predictions.empty()) {
    throw UserError("--in " + o.in.string() + ": none of the " + std::to_string(paths.size()) +
                    " files could be read as DICOM" +
                    (summary.skipped.empty() ? "" : " (first: " + summary.skipped.front().second + ")"));
  }
  checkpoint::write_file_atomic(o.out, predictions_text(o.out, summary.predictions, m.card.labels));
  if (!o.dump_inputs.empty()) {
    // Batches arrive in input order, so the rows follow the predictions' order.
    const torch::Tensor all = torch::cat(inputs).contiguous();
    data::write_npy_f32(o.dump_inputs, all.data_ptr<float>(), all.sizes().vec());
  }
  return summary;
}

}  // namespace medtrain::exporter
