#pragma once
// model.yaml: everything inference needs besides the weights, so that a bundle
// is usable without the training config (which `medtrain infer` never reads).
//
//   format: medtrain-model/1
//   architecture: resnet18          # models::create_model name
//   task: multiclass                # multiclass | multilabel | segmentation (absent: multiclass)
//   num_classes: 2
//   in_channels: 1
//   input: {name: input, shape: [-1, 1, 64, 64], dtype: float32, layout: NCHW}   # -1: any batch;
//          volumes: [-1, 1, D, 64, 64], layout NCDHW
//   labels: [normal, abnormal]      # index = class; "0", "1", ... when the run named none
//   preprocessing: {window_center: 40, window_width: 400, window_from_file: false,
//                   image_size: 64, depth: 0, mean: 0.5, std: 0.25,
//                   colour: luma,   # depth > 0: series in; colour rgb: 3-channel input
//                   slice_spacing: 1.5, pixel_spacing: 1.5,   # volumes trained at a voxel size (else absent)
//                   roi: [16, 24, 24]}   # volumes: the training window (patch, or depth x S x S)
//   training: {step: 6, epoch: 1, config_sha256: <64 hex>, checkpoint: <path>,
//              torch_version: ..., medtrain_version: ...}
//   metrics: {val/accuracy: 0.75, ...}   # the checkpoint's last evaluation; {} if none
//   onnx: {file: model.onnx, opset: 17, inputs: [input], outputs: [logits, probabilities]}   # absent without onnx;
//         text: inputs [input_ids], and input: {name: input_ids, shape: [-1, max_length], dtype: int64}
//   text: {max_length: 128, encoder: encoder}   # text bundles only (text_bundle.h), instead of preprocessing
//   files: {model.safetensors: <sha256>, model.onnx: <sha256>}
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace medtrain::exporter {

constexpr const char* kModelCardFormat = "medtrain-model/1";
constexpr const char* kModelCardFile = "model.yaml";
constexpr const char* kWeightsFile = "model.safetensors";
constexpr const char* kOnnxFile = "model.onnx";

struct Preprocessing {
  double window_center = 40;
  double window_width = 400;
  bool window_from_file = false;
  int64_t image_size = 64;
  int64_t depth = 0;  // > 0: inputs are series folders resized to depth slices
  double mean = 0;
  double std = 1;
  std::string colour = "luma";  // data.colour: luma | rgb (absent in older bundles: luma)
  // Volumes trained at a fixed voxel size (data.slice_spacing, pixel_spacing,
  // mm): infer resamples each series to it and runs the sliding window there.
  // 0 = the series were resized to depth x S x S (and older bundles).
  double slice_spacing = 0;
  double pixel_spacing = 0;
  // Volumes: the window the model trained on (depth, rows, cols): the patch
  // (data.patch_depth / patch_size) or the whole depth x S x S. Older bundles:
  // absent, read as depth x S x S.
  std::array<int64_t, 3> roi{};
  bool has_spacing() const { return slice_spacing > 0 && pixel_spacing > 0; }
};

struct ModelCard {
  std::string architecture;
  std::string task = "multiclass";
  int64_t num_classes = 0;
  int64_t in_channels = 1;
  std::vector<std::string> labels;  // num_classes names
  Preprocessing preprocessing;
  int64_t step = 0;
  int64_t epoch = 0;
  std::string config_sha256;
  std::string checkpoint;
  std::string torch_version;
  std::string medtrain_version;
  std::map<std::string, double> metrics;
  int64_t onnx_opset = 0;                    // 0: the bundle has no model.onnx
  // Text bundles (text_bundle.h): tokens per text, > 0; 0 for image bundles.
  // Their model.yaml has `text: {max_length: N, encoder: encoder}` instead of
  // `preprocessing`, and task may be token_classification.
  int64_t text_max_length = 0;
  std::map<std::string, std::string> files;  // bundle file name -> SHA-256 (hex)
};

std::string model_card_yaml(const ModelCard& card);

// `where` names the file in errors ("model/model.yaml"). Missing keys, wrong
// types and inconsistent values (labels vs num_classes, width <= 0) are
// UserErrors naming the key and line.
ModelCard parse_model_card(const std::string& text, const std::string& where);

// The model.yaml of bundle directory `dir`; UserError when it is not a bundle.
ModelCard read_model_card(const std::filesystem::path& dir);

}  // namespace medtrain::exporter
