// The aten ops of a BERT encoder with a task head (models/nlu/text_model.h),
// as LibTorch's tracer records them on the CPU in eval mode: embedding
// lookups, positions (arange), the padding mask (ne, to, unsqueeze), layer
// norm, linear on [N, L, H], view / reshape / transpose into heads, scaled dot
// product attention (written out as MatMul, scale, mask, Softmax, MatMul: the
// math of PyTorch's reference path), GELU (erf or tanh form) and mean pooling
// (mul, sum, clamp_min, div). Eval-mode semantics, as in aten_to_onnx.cpp.
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "trainer/export/aten_converter.h"

namespace medtrain::exporter::detail {
namespace {

c10::TensorTypePtr tensor_type(const Value* v) { return v->type()->cast<c10::TensorType>(); }

// The traced sizes of a tensor value, or fail.
std::vector<int64_t> sizes(const Converter& c, const Node* n, const Value* v) {
  auto type = tensor_type(v);
  auto concrete = type ? type->sizes().concrete_sizes() : std::nullopt;
  if (!concrete) c.fail(n, "the sizes of " + v->debugName() + " are unknown");
  return *concrete;
}

std::optional<c10::ScalarType> dtype(const Value* v) {
  auto type = tensor_type(v);
  return type ? type->scalarType() : std::nullopt;
}

// ONNX TensorProto.DataType of the dtypes a text model computes in.
int64_t onnx_dtype(const Converter& c, const Node* n, c10::ScalarType t) {
  switch (t) {
    case c10::kFloat: return 1;
    case c10::kInt: return 6;
    case c10::kLong: return 7;
    case c10::kBool: return 9;
    default: c.fail(n, std::string("a tensor of dtype ") + c10::toString(t) + " (float32, int32, int64 and bool map)");
  }
}

// Argument i as an ONNX value: a tensor, or a scalar constant made an
// initializer of the dtype of `like` (int64 for integer tensors, else float).
std::string operand(Converter& c, const Node* n, size_t i, const Value* like) {
  const Value* v = n->inputs()[i];
  if (tensor_type(v)) return c.tensor(n, v);
  const c10::Scalar s = c.constant(n, v).toScalar();
  const std::string stem = c.output(n->outputs()[0]) + "_arg" + std::to_string(i);
  const auto t = dtype(like);
  if (t && c10::isIntegralType(*t, /*includeBool=*/false)) return c.int64_initializer(stem, {s.toLong()});
  c.add_initializer(stem, at::scalar_tensor(s.toDouble(), at::kFloat));
  return stem;
}

// A float32 scalar initializer; `name` is unique when stemmed from a node's output.
std::string float_constant(Converter& c, const std::string& name, double value) {
  c.add_initializer(name, at::scalar_tensor(value, at::kFloat));
  return name;
}

void binary(Converter& c, const Node* n, const char* op) {
  const Value* a = n->inputs()[0];
  c.emit(op, {operand(c, n, 0, a), operand(c, n, 1, a)}, {c.output(n->outputs()[0])});
}

// embedding(weight, ids, padding_idx, scale_grad_by_freq, sparse): a row lookup.
void embedding(Converter& c, const Node* n) {
  c.emit("Gather", {c.tensor(n, n->inputs()[0]), c.tensor(n, n->inputs()[1])}, {c.output(n->outputs()[0])},
         {OnnxAttribute::integer("axis", 0)});
}

// arange(end, ...), arange(start, end, ...), arange(start, end, step, ...) of
// constants (the positions 0..L-1 for a traced L): an int64 initializer.
void arange(Converter& c, const Node* n) {
  const auto t = dtype(n->outputs()[0]);
  if (!t || !c10::isIntegralType(*t, false)) c.fail(n, "arange of a non-integer dtype");
  const size_t count = n->inputs().size();
  int64_t start = 0, end = 0, step = 1;
  if (count == 5) {
    end = c.constant(n, n->inputs()[0]).toScalar().toLong();
  } else {
    start = c.constant(n, n->inputs()[0]).toScalar().toLong();
    end = c.constant(n, n->inputs()[1]).toScalar().toLong();
    if (count == 7) step = c.constant(n, n->inputs()[2]).toScalar().toLong();
  }
  if (step == 0) c.fail(n, "arange with step 0");
  std::vector<int64_t> values;
  for (int64_t v = start; step > 0 ? v < end : v > end; v += step) values.push_back(v);
  c.names()[n->outputs()[0]] = c.int64_initializer("arange_" + std::to_string(c.names().size()), values);
}

// zeros_like(ids) of an integer tensor (the token types): ids - ids, which keeps
// the batch symbolic.
void zeros_like(Converter& c, const Node* n) {
  const auto t = dtype(n->outputs()[0]);
  if (!t || !c10::isIntegralType(*t, false) || dtype(n->inputs()[0]) != t) {
    c.fail(n, "zeros_like other than of an integer tensor in its own dtype");
  }
  const std::string x = c.tensor(n, n->inputs()[0]);
  c.emit("Sub", {x, x}, {c.output(n->outputs()[0])});
}

// to / type_as: a Cast to the dtype the tracer recorded for the output.
void cast(Converter& c, const Node* n) {
  const auto to = dtype(n->outputs()[0]);
  if (!to) c.fail(n, "the output dtype is unknown");
  if (dtype(n->inputs()[0]) == to) return c.alias(n);
  c.emit("Cast", {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])},
         {OnnxAttribute::integer("to", onnx_dtype(c, n, *to))});
}

// ne / eq (Tensor or Scalar other) -> Equal (then Not).
void compare(Converter& c, const Node* n, bool negate) {
  const Value* a = n->inputs()[0];
  const std::string out = c.output(n->outputs()[0]);
  const std::string equal = negate ? out + "_eq" : out;
  c.emit("Equal", {operand(c, n, 0, a), operand(c, n, 1, a)}, {equal});
  if (negate) c.emit("Not", {equal}, {out});
}

void unsqueeze(Converter& c, const Node* n) {
  const std::string out = c.output(n->outputs()[0]);
  c.emit("Unsqueeze", {c.tensor(n, n->inputs()[0]), c.int64_initializer(out + "_axes", {c.integer(n, 1)})}, {out});
}

// view / reshape(x, shape). Sizes are constants in a C++ trace; a first size
// equal to the input's traced first size is the batch, written 0 ("copy the
// input's") so that the graph takes any batch.
void reshape(Converter& c, const Node* n) {
  std::vector<int64_t> shape = c.ints(n, 1);
  const auto in = sizes(c, n, n->inputs()[0]);
  if (!shape.empty() && !in.empty() && shape[0] == in[0]) shape[0] = 0;
  const std::string out = c.output(n->outputs()[0]);
  c.emit("Reshape", {c.tensor(n, n->inputs()[0]), c.int64_initializer(out + "_shape", shape)}, {out});
}

std::vector<int64_t> identity_perm(int64_t rank) {
  std::vector<int64_t> perm(rank);
  for (int64_t i = 0; i < rank; ++i) perm[i] = i;
  return perm;
}

int64_t wrap(int64_t dim, int64_t rank) { return dim < 0 ? dim + rank : dim; }

// transpose(x, a, b) with a constant input is left to Converter's deferred path
// only for aten::t; here it is always a Transpose node.
void transpose_dims(Converter& c, const Node* n) {
  const int64_t rank = c.rank(n, n->inputs()[0]);
  auto perm = identity_perm(rank);
  std::swap(perm[wrap(c.integer(n, 1), rank)], perm[wrap(c.integer(n, 2), rank)]);
  c.emit("Transpose", {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])},
         {OnnxAttribute::integers("perm", perm)});
}

void permute(Converter& c, const Node* n) {
  const int64_t rank = c.rank(n, n->inputs()[0]);
  std::vector<int64_t> perm = c.ints(n, 1);
  for (auto& p : perm) p = wrap(p, rank);
  c.emit("Transpose", {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])},
         {OnnxAttribute::integers("perm", perm)});
}

// linear(x, weight, bias) for x of any rank >= 2: MatMul with the weight
// transposed (a Transpose node, so that the initializer keeps the state
// dict's layout), then Add; 2-D inputs keep the classifiers' Gemm.
Handler linear_any_rank(Handler gemm) {
  return [gemm](Converter& c, const Node* n) {
    if (c.rank(n, n->inputs()[0]) == 2) return gemm(c, n);
    const std::string out = c.output(n->outputs()[0]);
    const std::string wt = out + "_weight_t";
    c.emit("Transpose", {c.tensor(n, n->inputs()[1])}, {wt}, {OnnxAttribute::integers("perm", {1, 0})});
    if (c.is_none(n->inputs()[2])) return c.emit("MatMul", {c.tensor(n, n->inputs()[0]), wt}, {out});
    c.emit("MatMul", {c.tensor(n, n->inputs()[0]), wt}, {out + "_mm"});
    c.emit("Add", {out + "_mm", c.tensor(n, n->inputs()[2])}, {out});
  };
}

// layer_norm(x, normalized_shape, weight, bias, eps, cudnn_enable) over the
// last len(normalized_shape) axes: LayerNormalization (opset 17).
void layer_norm(Converter& c, const Node* n) {
  const auto shape = c.ints(n, 1);
  if (c.is_none(n->inputs()[2]) || c.is_none(n->inputs()[3])) c.fail(n, "layer norm without weight and bias");
  c.emit("LayerNormalization",
         {c.tensor(n, n->inputs()[0]), c.tensor(n, n->inputs()[2]), c.tensor(n, n->inputs()[3])},
         {c.output(n->outputs()[0])},
         {OnnxAttribute::integer("axis", -static_cast<int64_t>(shape.size())),
          OnnxAttribute::real("epsilon", static_cast<float>(c.real(n, 4)))});
}

// gelu(x, approximate): "none" = 0.5 x (1 + erf(x / sqrt 2)); "tanh" =
// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))). Opset 17 has no Gelu.
void gelu(Converter& c, const Node* n) {
  const std::string approximate = n->inputs().size() > 1 ? c.constant(n, n->inputs()[1]).toStringRef() : "none";
  const std::string x = c.tensor(n, n->inputs()[0]);
  const std::string out = c.output(n->outputs()[0]);
  auto k = [&](const char* what, double v) { return float_constant(c, out + "_" + what, v); };
  std::string inner;
  if (approximate == "none") {
    c.emit("Mul", {x, k("inv_sqrt2", M_SQRT1_2)}, {out + "_scaled"});
    c.emit("Erf", {out + "_scaled"}, {out + "_erf"});
    inner = out + "_erf";
  } else if (approximate == "tanh") {
    c.emit("Mul", {x, x}, {out + "_x2"});
    c.emit("Mul", {out + "_x2", x}, {out + "_x3"});
    c.emit("Mul", {out + "_x3", k("c", 0.044715)}, {out + "_cx3"});
    c.emit("Add", {x, out + "_cx3"}, {out + "_sum"});
    c.emit("Mul", {out + "_sum", k("sqrt_2_over_pi", std::sqrt(2.0 / M_PI))}, {out + "_arg"});
    c.emit("Tanh", {out + "_arg"}, {out + "_tanh"});
    inner = out + "_tanh";
  } else {
    c.fail(n, "gelu approximate=\"" + approximate + "\"");
  }
  c.emit("Add", {inner, k("one", 1.0)}, {out + "_1p"});
  c.emit("Mul", {x, out + "_1p"}, {out + "_x1p"});
  c.emit("Mul", {out + "_x1p", k("half", 0.5)}, {out});
}

// scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal, scale[, enable_gqa])
// with q, k, v [N, heads, L, d] and a bool (true = attend) or additive float
// mask: softmax(q k^T * scale + mask) v, the math of PyTorch's reference
// path, where a bool mask is 0 / -inf.
void attention(Converter& c, const Node* n) {
  if (c.real(n, 4) != 0.0) c.fail(n, "attention dropout (export puts the model in eval mode)");
  if (c.boolean(n, 5)) c.fail(n, "causal attention");
  if (n->inputs().size() > 7 && c.boolean(n, 7)) c.fail(n, "grouped-query attention");
  const auto q_sizes = sizes(c, n, n->inputs()[0]);
  const int64_t rank = static_cast<int64_t>(q_sizes.size());
  const double scale =
      c.is_none(n->inputs()[6]) ? 1.0 / std::sqrt(static_cast<double>(q_sizes.back())) : c.real(n, 6);
  const std::string out = c.output(n->outputs()[0]);
  auto perm = identity_perm(rank);
  std::swap(perm[rank - 1], perm[rank - 2]);
  c.emit("Transpose", {c.tensor(n, n->inputs()[1])}, {out + "_kt"}, {OnnxAttribute::integers("perm", perm)});
  c.emit("MatMul", {c.tensor(n, n->inputs()[0]), out + "_kt"}, {out + "_qk"});
  c.emit("Mul", {out + "_qk", float_constant(c, out + "_scale", scale)}, {out + "_scores"});
  std::string scores = out + "_scores";
  const Value* mask = n->inputs()[3];
  if (!c.is_none(mask)) {
    if (dtype(mask) == c10::kBool) {
      c.emit("Where",
             {c.tensor(n, mask), float_constant(c, out + "_zero", 0.0),
              float_constant(c, out + "_neg_inf", -std::numeric_limits<double>::infinity())},
             {out + "_bias"});
      c.emit("Add", {scores, out + "_bias"}, {out + "_masked"});
    } else {
      c.emit("Add", {scores, c.tensor(n, mask)}, {out + "_masked"});
    }
    scores = out + "_masked";
  }
  c.emit("Softmax", {scores}, {out + "_weights"}, {OnnxAttribute::integer("axis", -1)});
  c.emit("MatMul", {out + "_weights", c.tensor(n, n->inputs()[2])}, {out});
}

// sum(x, dims, keepdim, dtype) -> ReduceSum (axes as an input since opset 13).
void sum(Converter& c, const Node* n) {
  if (n->inputs().size() != 4) c.fail(n, "a sum over all elements (only sum over dims maps)");
  if (!c.is_none(n->inputs()[3])) c.fail(n, "sum with a dtype");
  const std::string out = c.output(n->outputs()[0]);
  c.emit("ReduceSum", {c.tensor(n, n->inputs()[0]), c.int64_initializer(out + "_axes", c.ints(n, 1))}, {out},
         {OnnxAttribute::integer("keepdims", c.boolean(n, 2) ? 1 : 0)});
}

void div(Converter& c, const Node* n) {
  if (n->inputs().size() > 2 && !c.is_none(n->inputs()[2])) c.fail(n, "division with a rounding mode");
  binary(c, n, "Div");
}

void softmax(Converter& c, const Node* n) {
  if (n->inputs().size() > 2 && !c.is_none(n->inputs()[2])) c.fail(n, "softmax with a dtype");
  c.emit("Softmax", {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])},
         {OnnxAttribute::integer("axis", c.integer(n, 1))});
}

}  // namespace

void add_text_ops(HandlerTable& table) {
  table["aten::linear"] = linear_any_rank(table.at("aten::linear"));
  table["aten::embedding"] = embedding;
  table["aten::arange"] = arange;
  table["aten::zeros_like"] = zeros_like;
  table["aten::to"] = cast;
  table["aten::type_as"] = cast;
  table["aten::ne"] = [](Converter& c, const Node* n) { compare(c, n, true); };
  table["aten::eq"] = [](Converter& c, const Node* n) { compare(c, n, false); };
  table["aten::unsqueeze"] = unsqueeze;
  table["aten::view"] = reshape;
  table["aten::reshape"] = reshape;
  table["aten::transpose"] = transpose_dims;
  table["aten::permute"] = permute;
  table["aten::layer_norm"] = layer_norm;
  table["aten::gelu"] = gelu;
  table["aten::scaled_dot_product_attention"] = attention;
  table["aten::sum"] = sum;
  table["aten::mul"] = [](Converter& c, const Node* n) { binary(c, n, "Mul"); };
  table["aten::div"] = div;
  table["aten::clamp_min"] = [](Converter& c, const Node* n) { binary(c, n, "Max"); };
  table["aten::softmax"] = softmax;
  table["aten::tanh"] = [](Converter& c, const Node* n) {
    c.emit("Tanh", {c.tensor(n, n->inputs()[0])}, {c.output(n->outputs()[0])});
  };
}

}  // namespace medtrain::exporter::detail
