#include "trainer/export/text_to_onnx.h"

#include <string>
#include <vector>

#include "trainer/export/aten_converter.h"
#include "trainer/export/trace_forward.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

// Traced with two rows: a batch size the reshape handler can tell apart from
// the sizes after it (see aten_ops_text.cpp, reshape), and more than one row
// so that nothing batch-1 specific is recorded.
constexpr int64_t kTraceBatch = 2;

void check_spec(const TextOnnxSpec& spec, const models::nlu::BertConfig& config) {
  const std::string where = "export " + spec.architecture + ": ";
  if (spec.task != kTaskMulticlass && spec.task != kTaskMultilabel && spec.task != kTaskTokenClassification) {
    throw UserError(where + "task \"" + spec.task + "\" is not one of " + kTaskMulticlass + ", " + kTaskMultilabel +
                    ", " + kTaskTokenClassification);
  }
  if (spec.max_length < 1 || spec.num_labels < 1) {
    throw UserError(where + "text.max_length and the number of labels must be >= 1");
  }
  if (spec.max_length > config.max_position_embeddings) {
    throw UserError(where + "text.max_length " + std::to_string(spec.max_length) +
                    " is longer than the encoder's max_position_embeddings " +
                    std::to_string(config.max_position_embeddings) + "; train with a smaller data.max_length");
  }
}

}  // namespace

OnnxGraph text_model_to_onnx(models::nlu::BertTaskModel& model, const TextOnnxSpec& spec) {
  check_spec(spec, model.config());
  // Any id but the pad id: an all-padding row would trace the same ops but
  // compute NaNs (every key masked).
  const int64_t token = model.config().pad_token_id == 0 ? 1 : 0;
  const auto traced_forward = detail::trace_forward(
      model, [&model](const torch::Tensor& ids) { return model.forward(ids); },
      torch::full({kTraceBatch, spec.max_length}, token, torch::kInt64),
      "export " + spec.architecture + ": tracing the text model's forward on [" + std::to_string(kTraceBatch) + ", " +
          std::to_string(spec.max_length) + "] token ids");
  const torch::jit::Graph& traced = *traced_forward.graph;
  const bool per_token = spec.task == kTaskTokenClassification;
  auto type = traced.outputs()[0]->type()->cast<c10::TensorType>();
  const int64_t expected = per_token ? 3 : 2;
  if (type && type->dim() && static_cast<int64_t>(*type->dim()) != expected) {
    throw UserError("export " + spec.architecture + ": task " + spec.task + " expects " + std::to_string(expected) +
                    "-D logits but the model returns " + std::to_string(*type->dim()) +
                    "-D logits (a sequence head gives [N, K], a token head [N, L, K])");
  }
  // The Converter's spec is only read for messages (the architecture's name).
  OnnxExportSpec messages;
  messages.architecture = spec.architecture;
  detail::Converter c(traced_forward.tensor_names, messages);
  detail::convert_nodes(c, traced, kOnnxInputIds);
  if (spec.task == kTaskMultilabel) {
    c.emit("Sigmoid", {kOnnxLogits}, {kOnnxProbabilities});
  } else {  // over K: of each row, or of each token
    c.emit("Softmax", {kOnnxLogits}, {kOnnxProbabilities}, {OnnxAttribute::integer("axis", -1)});
  }
  OnnxGraph out = std::move(c.graph());
  out.name = spec.architecture;
  out.opset = kOnnxOpset;
  const OnnxDim batch{-1, "batch"}, length{spec.max_length, ""}, labels{spec.num_labels, ""};
  OnnxValueInfo input{kOnnxInputIds, {batch, length}};
  input.is_int64 = true;
  out.inputs = {input};
  const std::vector<OnnxDim> logits = per_token ? std::vector<OnnxDim>{batch, length, labels}
                                                : std::vector<OnnxDim>{batch, labels};
  out.outputs = {{kOnnxLogits, logits}, {kOnnxProbabilities, logits}};
  return out;
}

}  // namespace medtrain::exporter
