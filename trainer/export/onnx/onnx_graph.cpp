// OnnxGraph -> ModelProto. Compiled without LibTorch's includes: see
// Note [Protobuf clash] in onnx_graph.h.
#include "trainer/export/onnx/onnx_graph.h"

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <cstring>
#include <limits>

namespace medtrain::exporter {
namespace {

int64_t numel(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

void set_value_info(onnx::ValueInfoProto* info, const OnnxValueInfo& v) {
  info->set_name(v.name);
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(v.is_int64 ? onnx::TensorProto_DataType_INT64 : onnx::TensorProto_DataType_FLOAT);
  auto* shape = tensor->mutable_shape();
  for (const OnnxDim& d : v.dims) {
    auto* dim = shape->add_dim();
    if (d.size >= 0) {
      dim->set_dim_value(d.size);
    } else {
      dim->set_dim_param(d.param);
    }
  }
}

void set_attribute(onnx::AttributeProto* a, const OnnxAttribute& attr) {
  a->set_name(attr.name);
  switch (attr.kind) {
    case OnnxAttribute::Kind::kInt:
      a->set_type(onnx::AttributeProto_AttributeType_INT);
      a->set_i(attr.i);
      break;
    case OnnxAttribute::Kind::kInts:
      a->set_type(onnx::AttributeProto_AttributeType_INTS);
      for (int64_t v : attr.ints) a->add_ints(v);
      break;
    case OnnxAttribute::Kind::kFloat:
      a->set_type(onnx::AttributeProto_AttributeType_FLOAT);
      a->set_f(attr.f);
      break;
    case OnnxAttribute::Kind::kString:
      a->set_type(onnx::AttributeProto_AttributeType_STRING);
      a->set_s(attr.s);
      break;
  }
}

// raw_data holds the values little-endian; every platform we build for is.
void set_initializer(onnx::TensorProto* t, const OnnxInitializer& init) {
  t->set_name(init.name);
  for (int64_t d : init.dims) t->add_dims(d);
  const size_t expected = static_cast<size_t>(numel(init.dims));
  const size_t got = init.is_int64 ? init.int64s.size() : init.floats.size();
  if (got != expected) {
    throw OnnxBuildError("initializer " + init.name + ": " + std::to_string(got) + " values for a shape of " +
                         std::to_string(expected));
  }
  if (init.is_int64) {
    t->set_data_type(onnx::TensorProto_DataType_INT64);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(init.int64s.data()), got * sizeof(int64_t)));
  } else {
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(init.floats.data()), got * sizeof(float)));
  }
}

onnx::ModelProto to_proto(const OnnxGraph& graph) {
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("medtrain");
  model.set_producer_version(graph.producer_version);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(graph.opset);
  for (const auto& [key, value] : graph.metadata) {
    auto* prop = model.add_metadata_props();
    prop->set_key(key);
    prop->set_value(value);
  }
  auto* g = model.mutable_graph();
  g->set_name(graph.name);
  for (const auto& v : graph.inputs) set_value_info(g->add_input(), v);
  for (const auto& v : graph.outputs) set_value_info(g->add_output(), v);
  for (const auto& init : graph.initializers) set_initializer(g->add_initializer(), init);
  for (const auto& n : graph.nodes) {
    auto* node = g->add_node();
    node->set_op_type(n.op_type);
    node->set_name(n.name);
    for (const auto& in : n.inputs) node->add_input(in);
    for (const auto& out : n.outputs) node->add_output(out);
    for (const auto& attr : n.attributes) set_attribute(node->add_attribute(), attr);
  }
  return model;
}

}  // namespace

OnnxAttribute OnnxAttribute::integer(std::string name, int64_t v) {
  OnnxAttribute a;
  a.name = std::move(name), a.kind = Kind::kInt, a.i = v;
  return a;
}
OnnxAttribute OnnxAttribute::integers(std::string name, std::vector<int64_t> v) {
  OnnxAttribute a;
  a.name = std::move(name), a.kind = Kind::kInts, a.ints = std::move(v);
  return a;
}
OnnxAttribute OnnxAttribute::real(std::string name, float v) {
  OnnxAttribute a;
  a.name = std::move(name), a.kind = Kind::kFloat, a.f = v;
  return a;
}
OnnxAttribute OnnxAttribute::text(std::string name, std::string v) {
  OnnxAttribute a;
  a.name = std::move(name), a.kind = Kind::kString, a.s = std::move(v);
  return a;
}

std::string serialize_onnx_model(const OnnxGraph& graph) {
  onnx::ModelProto model = to_proto(graph);
  if (model.ByteSizeLong() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    throw OnnxBuildError("the model is larger than protobuf's 2 GiB message limit");
  }
  try {
    onnx::checker::check_model(model);
    // Strict: every node's output type and shape must be inferable, and the
    // inferred graph outputs must agree with the declared ones.
    onnx::ModelProto inferred = model;
    onnx::shape_inference::InferShapes(inferred, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*strict_mode=*/1));
  } catch (const std::exception& e) {
    throw OnnxBuildError(std::string("ONNX checker rejected the graph: ") + e.what());
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw OnnxBuildError("could not serialize the ONNX model");
  return bytes;
}

}  // namespace medtrain::exporter
