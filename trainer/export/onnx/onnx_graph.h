#pragma once
// A framework-neutral description of an inference graph (ONNX operators over
// named values, float32/int64 initializers) and its serialization to an ONNX
// ModelProto, validated by onnx::checker and strict shape inference.
//
// Note [Protobuf clash]: this folder is its own static library,
// medtrain_onnx, compiled WITHOUT LibTorch's include directories. The torch
// wheel ships its own google/protobuf headers (a different protobuf version
// from Debian's libprotobuf, which libonnx is built against); a translation
// unit that saw both would mix two protobuf ABIs. So this header uses plain
// C++ types only, and the code that turns a LibTorch module into an OnnxGraph
// (trainer/export/torch_to_onnx.*) never includes an ONNX header.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace medtrain::exporter {

// The graph failed onnx::checker or shape inference; the message holds the
// checker's reason (which node, which input).
class OnnxBuildError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OnnxAttribute {
  enum class Kind { kInt, kInts, kFloat, kString };
  std::string name;
  Kind kind = Kind::kInt;
  int64_t i = 0;
  std::vector<int64_t> ints;
  float f = 0;
  std::string s;

  static OnnxAttribute integer(std::string name, int64_t v);
  static OnnxAttribute integers(std::string name, std::vector<int64_t> v);
  static OnnxAttribute real(std::string name, float v);
  static OnnxAttribute text(std::string name, std::string v);
};

struct OnnxNode {
  std::string op_type;                  // e.g. "Conv" (default ai.onnx domain)
  std::string name;                     // unique, for messages and profilers
  std::vector<std::string> inputs;      // value names; "" = optional input left out
  std::vector<std::string> outputs;
  std::vector<OnnxAttribute> attributes;
};

// A constant tensor: float32 (`floats`) or, when is_int64, int64 (`int64s`).
// Row-major, numel(dims) values.
struct OnnxInitializer {
  std::string name;
  std::vector<int64_t> dims;
  bool is_int64 = false;
  std::vector<float> floats;
  std::vector<int64_t> int64s;
};

// One dimension of a graph input or output: a fixed size, or a symbolic one
// (`param`, e.g. "batch") when size < 0.
struct OnnxDim {
  int64_t size = -1;
  std::string param;
};

struct OnnxValueInfo {
  std::string name;
  std::vector<OnnxDim> dims;
  bool is_int64 = false;  // element type int64 (token ids) instead of float32
};

struct OnnxGraph {
  std::string name = "medtrain";
  std::vector<OnnxValueInfo> inputs;   // float32 unless is_int64
  std::vector<OnnxValueInfo> outputs;  // float32 unless is_int64
  std::vector<OnnxNode> nodes;         // in topological order
  std::vector<OnnxInitializer> initializers;
  int64_t opset = 17;
  std::string producer_version;
  std::map<std::string, std::string> metadata;  // ModelProto.metadata_props
};

// The serialized ModelProto (IR version of the installed ONNX library, opset
// `graph.opset` of the default domain). Throws OnnxBuildError when the checker
// or strict shape inference rejects the graph, or when it would exceed
// protobuf's 2 GiB message limit.
std::string serialize_onnx_model(const OnnxGraph& graph);

}  // namespace medtrain::exporter
