#include "models/asr/ct2_tensors.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cstring>
#include <string>
#include <vector>

#include "models/model_error.h"

namespace medtrain::models::asr {

// model.bin is little-endian; so are the hosts we build for, so the bytes are
// copied as they are.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "model.bin bytes are little-endian");

namespace {

[[noreturn]] void fail(const std::string& origin, const Ct2Variable& v, const std::string& what) {
  throw ModelError(fmt::format("{}: offset {}: variable {}: {}", origin, v.offset, v.name, what));
}

std::vector<int64_t> sizes(const Ct2Variable& v) { return {v.shape.begin(), v.shape.end()}; }

torch::ScalarType stored_type(Ct2DType dtype) {
  switch (dtype) {
    case Ct2DType::kF32: return torch::kFloat32;
    case Ct2DType::kF16: return torch::kFloat16;
    case Ct2DType::kBF16: return torch::kBFloat16;
    case Ct2DType::kI8: return torch::kInt8;
    case Ct2DType::kI16: return torch::kInt16;
    case Ct2DType::kI32: return torch::kInt32;
  }
  return torch::kFloat32;
}

// The bytes copied into an aligned tensor of the stored dtype (never a cast
// pointer into the file's buffer: data starts at any offset).
torch::Tensor copy_out(const Ct2Variable& v) {
  torch::Tensor t = torch::empty(sizes(v), torch::TensorOptions().dtype(stored_type(v.dtype)));
  if (!v.bytes.empty()) std::memcpy(t.data_ptr(), v.bytes.data(), v.bytes.size());
  return t;
}

bool is_float(Ct2DType d) { return d == Ct2DType::kF32 || d == Ct2DType::kF16 || d == Ct2DType::kBF16; }

}  // namespace

torch::Tensor ct2_float_tensor(const Ct2Variable& v, torch::ScalarType dtype, const std::string& origin) {
  if (!is_float(v.dtype)) fail(origin, v, fmt::format("is {}, not a float", ct2_dtype_name(v.dtype)));
  return copy_out(v).to(dtype);
}

torch::Tensor ct2_dequantize(const Ct2Variable& q, const Ct2Variable& scale, torch::ScalarType dtype,
                             const std::string& origin) {
  if (q.dtype != Ct2DType::kI8 && q.dtype != Ct2DType::kI16) {
    fail(origin, q, fmt::format("is {}; only int8 and int16 weights are dequantized", ct2_dtype_name(q.dtype)));
  }
  if (scale.dtype != Ct2DType::kF32) fail(origin, scale, "a quantization scale must be float32");
  const bool per_tensor = scale.numel() == 1 && scale.shape.size() <= 1;
  const bool per_row = scale.shape.size() == 1 && !q.shape.empty() && scale.shape[0] == q.shape[0];
  if (!per_tensor && !per_row) {
    fail(origin, scale, fmt::format("{} scale values do not fit {} (one per row of dimension 0, or one)",
                                    scale.numel(), q.name));
  }
  torch::Tensor s = copy_out(scale);
  if (per_row && q.shape.size() > 1) {
    std::vector<int64_t> view(q.shape.size(), 1);
    view[0] = q.shape[0];
    s = s.view(view);
  }
  return (copy_out(q).to(torch::kFloat32) / s).to(dtype);
}

torch::Tensor ct2_weight(const Ct2ModelFile& file, const std::string& name, torch::ScalarType dtype,
                         std::string* scale_used) {
  if (scale_used != nullptr) scale_used->clear();
  const Ct2Variable* v = file.find(name);
  if (v == nullptr) throw ModelError(fmt::format("{}: missing variable {}", file.origin, name));
  if (is_float(v->dtype)) return ct2_float_tensor(*v, dtype, file.origin);
  // ctranslate2 stores a quantized weight's scale under the variable's own
  // name (an alias shares its target's scale: model.cc registers the alias).
  const std::string scale_name = v->name + "_scale";
  const Ct2Variable* scale = file.find(scale_name);
  if (scale == nullptr) {
    fail(file.origin, *v, fmt::format("is {} without a {} to dequantize it", ct2_dtype_name(v->dtype), scale_name));
  }
  if (scale_used != nullptr) *scale_used = scale_name;
  return ct2_dequantize(*v, *scale, dtype, file.origin);
}

}  // namespace medtrain::models::asr
