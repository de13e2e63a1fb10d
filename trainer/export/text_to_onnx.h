#pragma once
// A BERT text model (models/nlu/text_model.h) -> OnnxGraph, through the same
// tracer and aten op table as images (torch_to_onnx.h; the encoder's ops are
// in aten_ops_text.cpp).
//
// The graph has one input "input_ids" int64 [batch, L], L = spec.max_length
// fixed (the bundle's text.max_length): token ids from the bundle's tokenizer,
// truncated to L and padded to exactly L with the tokenizer's pad id, which is
// also how the graph finds padding (attention mask = ids != pad_token_id, as
// in training). The batch is symbolic (any size). Outputs, by task:
//   multiclass            "logits" [batch, K], "probabilities" = softmax over K
//   multilabel            "logits" [batch, K], "probabilities" = sigmoid
//   token_classification  "logits" [batch, L, K], "probabilities" = softmax
//                         over K for each token
// Attention is written out (MatMul, scale, -inf mask, Softmax, MatMul), the
// math of at::scaled_dot_product_attention's reference path; GELU in its erf
// (or tanh, as the config says) form, since opset 17 has no Gelu.
#include <cstdint>
#include <string>

#include "models/nlu/text_model.h"
#include "trainer/export/onnx/onnx_graph.h"

namespace medtrain::exporter {

constexpr const char* kOnnxInputIds = "input_ids";
constexpr const char* kTaskTokenClassification = "token_classification";

struct TextOnnxSpec {
  std::string architecture = "bert";  // for messages
  std::string task = "multiclass";    // multiclass | multilabel | token_classification
  int64_t max_length = 128;           // L, <= the encoder's max_position_embeddings
  int64_t num_labels = 2;             // K
};

// Traces `model` on CPU in eval mode (left so afterwards, requires_grad off on
// every parameter, as image_model_to_onnx does). UserError when the spec is
// invalid (unknown task, L or K < 1, L beyond the encoder's positions), the
// logits' rank does not fit the task, or an op has no mapping.
OnnxGraph text_model_to_onnx(models::nlu::BertTaskModel& model, const TextOnnxSpec& spec);

}  // namespace medtrain::exporter
