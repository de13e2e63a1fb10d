#pragma once
// `medtrain infer`: a model bundle (export_bundle.h) over DICOM files ->
// per-file predictions. Only the bundle is read: model.yaml for architecture,
// labels and preprocessing, model.safetensors (checked against the SHA-256 in
// model.yaml) for the weights. Files are decoded and preprocessed on worker
// threads by the training loader (data::BatchLoader over data::DicomDataset),
// so inference sees exactly what training saw for the same file.
#include <c10/core/Device.h>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/batch_loader.h"
#include "models/image_model.h"
#include "trainer/export/model_card.h"

namespace medtrain::exporter {

struct LoadedModel {
  ModelCard card;
  std::shared_ptr<models::ImageModel> model;  // eval mode, on `device`
  c10::Device device{c10::kCPU};
};

// UserError naming the bundle file at fault (missing, checksum, shapes).
LoadedModel load_bundle(const std::filesystem::path& dir, const c10::Device& device);

// The bytes of bundle file `name` (a path below `dir`), after checking them
// against the SHA-256 that model.yaml lists; UserError naming the file otherwise.
std::string read_bundle_file(const std::filesystem::path& dir, const ModelCard& card, const char* name);

// model.yaml says the bundle holds a text model (text_bundle.h, text_inference.h).
bool is_text_bundle(const std::filesystem::path& dir);

struct InferOptions {
  std::filesystem::path model_dir;
  std::filesystem::path in;
  std::filesystem::path out;  // .csv or .jsonl
  size_t batch_size = 32;
  size_t workers = 2;
  data::OnError on_error = data::OnError::kFail;
  std::string device = "auto";  // auto | cpu | cuda
  std::string dump_inputs;      // testing: the preprocessed batch as .npy [N, C, (D,) S, S], in output order
};

// One input's prediction, by the bundle's task:
//   multiclass    label = argmax; probabilities = softmax, one per class
//   multilabel    probabilities = sigmoid, one per label; present = those >= 0.5
//   segmentation  mask = the argmax class per pixel, written as a uint8 .npy
//                 at the model's input size (S x S, or D x S x S for volumes)
//                 into <out stem>_masks/<input index>.npy; pixels = count per class
struct Prediction {
  std::string path;
  int64_t label = 0;
  std::vector<float> probabilities;
  std::vector<float> logits;         // classification tasks
  std::vector<int64_t> present;      // multilabel: indices of the labels predicted present
  std::string mask;                  // segmentation: mask file, relative to --out's folder
  std::vector<int64_t> mask_shape;
  std::vector<int64_t> pixels;       // segmentation: pixels per class
};

struct InferSummary {
  size_t files = 0;  // inputs found
  std::vector<Prediction> predictions;  // in input order, skipped files left out
  std::vector<std::pair<std::string, std::string>> skipped;  // path, reason
  std::string device;  // what ran the model and why
};

// Predicts every input and writes options.out atomically. Under on_error:
// fail the first file that cannot be read ends the run (DataError naming it,
// exit 2); under skip it is listed in the summary.
InferSummary run_inference(const InferOptions& options);

}  // namespace medtrain::exporter
