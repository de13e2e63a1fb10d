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
  // The inference graph (models/cv/inference_graph.h): batch norm folded,
  // epilogues fused, inference mode; the eval-mode model itself where an
  // architecture has no graph. On `device`.
  std::shared_ptr<models::ImageModel> model;
  std::string graph;  // what load-time optimisation did, for the log
  c10::Device device{c10::kCPU};
  // The eval-mode model before the inference graph was built, kept only when
  // asked (saliency backpropagates, which the graph cannot); else null.
  std::shared_ptr<models::ImageModel> eval_model;
};

// UserError naming the bundle file at fault (missing, checksum, shapes).
LoadedModel load_bundle(const std::filesystem::path& dir, const c10::Device& device, bool keep_eval_model = false);

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
  // Image bundles on CUDA (gpu_inference.h): autocast fp32 | bf16 | fp16, and
  // CUDA graphs auto (on for CUDA) | on | off. bf16/fp16/on with a CPU device: UserError.
  std::string precision = "fp32";
  std::string cuda_graphs = "auto";
  int threads = 0;               // LibTorch intra-op threads; 0 = the usable cores (cpu_quota.h)
  std::string dump_inputs;      // testing: the preprocessed batch as .npy [N, C, (D,) S, S], in output order
  std::string progress = "auto";  // auto | bar | plain | none, on stderr (metrics/progress.h)
  // Segmentation masks: any of npy, seg (DICOM SEG), nifti; seg and nifti
  // need a volume bundle trained at a voxel size (volume_infer.h).
  std::vector<std::string> mask_formats{"npy"};
  bool seg_fractional = false;  // --seg-type fractional
  // Whole-volume sliding window (sliding_window.h); the ROI is the bundle's.
  double sw_overlap = 0.25;
  std::string sw_mode = "constant";  // constant | gaussian (sigma_scale 0.125)
  int64_t sw_batch = 1;
  double max_volume_gb = 8;  // refuse a series whose estimated peak memory is larger
  // --saliency (saliency_outputs.h): "" (none), grad-cam or occlusion, for 2D
  // classifier bundles; files in any of png, dicom (Secondary Capture), npy.
  std::string saliency;
  std::filesystem::path saliency_out;  // empty: <out folder>/<out stem>_saliency/
  std::vector<std::string> saliency_formats{"png", "dicom"};
};

// One input's prediction, by the bundle's task:
//   multiclass    label = argmax; probabilities = softmax, one per class
//   multilabel    probabilities = sigmoid, one per label; present = those >= 0.5
//   segmentation  mask = the argmax class per pixel, written as a uint8 .npy
//                 at the model's input size (S x S, or D x S x S for volumes
//                 resized to depth) into <out stem>_masks/<input index>.npy;
//                 pixels = count per class. Volume bundles trained at a voxel
//                 size: the whole series by sliding window, masks on the
//                 series' grid, in --mask-format's formats (volume_infer.h)
struct Prediction {
  std::string path;
  int64_t label = 0;
  std::vector<float> probabilities;
  std::vector<float> logits;         // classification tasks
  std::vector<int64_t> present;      // multilabel: indices of the labels predicted present
  std::string mask;                  // segmentation: mask file, relative to --out's folder
  std::vector<int64_t> mask_shape;
  std::vector<int64_t> pixels;       // segmentation: pixels per class
  std::vector<std::pair<std::string, std::string>> masks;  // volumes: format -> file (mask: the first)
  // --saliency: format -> file, relative to --out's folder (saliency_outputs.h)
  std::vector<std::pair<std::string, std::string>> saliency;
};

struct InferSummary {
  size_t files = 0;  // inputs found
  const char* unit = "files";  // what an input is: "series" for volume bundles
  std::vector<Prediction> predictions;  // in input order, skipped files left out
  // path, reason. skipped: could not be read (not DICOM, an invalid series);
  // failed: read but not predicted (a volume over --max-volume-gb). Both only
  // under --on-error skip; under fail the first one ends the run.
  std::vector<std::pair<std::string, std::string>> skipped;
  std::vector<std::pair<std::string, std::string>> failed;
  std::string device;  // what ran the model and why, and at which precision (gpu_inference.h)
  std::string graph;   // what load-time optimisation did (LoadedModel::graph)
  size_t saliency_maps = 0;            // --saliency: inputs explained
  std::filesystem::path saliency_dir;  // and where their files went
};

// Where segmentation masks go: <out folder>/<out stem>_masks/.
std::filesystem::path masks_dir(const std::filesystem::path& out);

// Predicts every input and writes options.out atomically. Under on_error:
// fail the first file that cannot be read ends the run (DataError naming it,
// exit 2); under skip it is listed in the summary.
InferSummary run_inference(const InferOptions& options);

}  // namespace medtrain::exporter
