#include "trainer/export/torch_to_onnx.h"

#include <string>
#include <vector>

#include "trainer/export/aten_to_onnx.h"
#include "trainer/export/trace_forward.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace

void check_export_spec(const OnnxExportSpec& spec) {
  if (spec.task != kTaskMulticlass && spec.task != kTaskMultilabel && spec.task != kTaskSegmentation) {
    throw UserError("export " + spec.architecture + ": task \"" + spec.task + "\" is not one of " + kTaskMulticlass +
                    ", " + kTaskMultilabel + ", " + kTaskSegmentation);
  }
  if (spec.depth < 0) {
    throw UserError("export " + spec.architecture + ": depth must be 0 (2-D input) or the number of slices, got " +
                    std::to_string(spec.depth));
  }
  if (spec.in_channels < 1 || spec.image_size < 1 || spec.num_classes < 1) {
    throw UserError("export " + spec.architecture + ": in_channels, image_size and num_classes must be >= 1");
  }
}

OnnxGraph image_model_to_onnx(models::ImageModel& model, const OnnxExportSpec& spec) {
  check_export_spec(spec);
  std::vector<int64_t> shape = {1, spec.in_channels};
  if (spec.depth > 0) shape.push_back(spec.depth);
  shape.insert(shape.end(), {spec.image_size, spec.image_size});
  const auto traced = detail::trace_forward(
      model, [&model](const torch::Tensor& x) { return model.forward(x); }, torch::zeros(shape),
      "export " + spec.architecture + ": tracing the model's forward on " + shape_text(shape),
      // e.g. a 3-D U-Net given a 2-D input
      spec.depth == 0 ? " (depth 0 means a 2-D input; a 3-D model needs depth > 0)" : "");
  return traced_graph_to_onnx(*traced.graph, traced.tensor_names, spec);
}

}  // namespace medtrain::exporter
