// CTranslate2 variables as tensors (models/asr/ct2_tensors.h): float32,
// float16 and bfloat16 bytes become the values they encode in any float dtype;
// int8/int16 weights are q / scale per row or per tensor; integer variables
// read as floats, and scales that do not fit, are ModelErrors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "models/asr/ct2_model_file.h"
#include "models/asr/ct2_tensors.h"
#include "models/model_error.h"

namespace asr = medtrain::models::asr;
using medtrain::models::ModelError;

namespace {

asr::Ct2Variable variable(const std::string& name, std::vector<uint32_t> shape, asr::Ct2DType dtype,
                          const std::vector<uint8_t>& bytes) {
  asr::Ct2Variable v;
  v.name = name;
  v.shape = std::move(shape);
  v.dtype = dtype;
  v.bytes = bytes;
  return v;
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& values) {
  std::vector<uint8_t> b(values.size() * 4);
  std::memcpy(b.data(), values.data(), b.size());
  return b;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(no ModelError)";
}

}  // namespace

TEST(Ct2Tensors, FloatBytesBecomeTheirValuesInTheDtypeAskedFor) {
  const auto f16 = variable("h", {3}, asr::Ct2DType::kF16, {0x00, 0x3c, 0x00, 0x40, 0x00, 0xc2});  // 1, 2, -3
  const auto bf16 = variable("b", {2}, asr::Ct2DType::kBF16, {0x80, 0x3f, 0x00, 0xc0});            // 1, -2
  const auto f32 = variable("f", {1, 2}, asr::Ct2DType::kF32, f32_bytes({0.1f, -7.25f}));
  for (const torch::ScalarType dtype : {torch::kFloat32, torch::kFloat16, torch::kBFloat16}) {
    const torch::Tensor h = asr::ct2_float_tensor(f16, dtype, "t");
    EXPECT_EQ(h.dtype(), dtype);
    EXPECT_TRUE(torch::equal(h.to(torch::kFloat32), torch::tensor({1.f, 2.f, -3.f})));
    EXPECT_TRUE(torch::equal(asr::ct2_float_tensor(bf16, dtype, "t").to(torch::kFloat32), torch::tensor({1.f, -2.f})));
  }
  const torch::Tensor t = asr::ct2_float_tensor(f32, torch::kFloat32, "t");
  EXPECT_EQ(t.sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(t[0][0].item<float>(), 0.1f);
  EXPECT_EQ(t[0][1].item<float>(), -7.25f);
  const auto i8 = variable("flag", {}, asr::Ct2DType::kI8, {1});
  EXPECT_NE(error_of([&] { asr::ct2_float_tensor(i8, torch::kFloat32, "t"); }).find("variable flag: is int8, not a float"),
            std::string::npos);
}

TEST(Ct2Tensors, QuantizedWeightsAreDividedByTheirScales) {
  const auto q = variable("w", {2, 1, 2}, asr::Ct2DType::kI8, {10, 0xF6, 127, 1});  // 10, -10 | 127, 1
  const auto per_row = variable("w_scale", {2}, asr::Ct2DType::kF32, f32_bytes({2.f, 127.f}));
  EXPECT_TRUE(torch::equal(asr::ct2_dequantize(q, per_row, torch::kFloat32, "t"),
                           torch::tensor({5.f, -5.f, 1.f, 1.f / 127.f}).view({2, 1, 2})));
  const auto q16 = variable("w", {2}, asr::Ct2DType::kI16, {0x00, 0x04, 0x00, 0xFC});  // 1024, -1024
  const auto per_tensor = variable("w_scale", {}, asr::Ct2DType::kF32, f32_bytes({512.f}));
  EXPECT_TRUE(torch::equal(asr::ct2_dequantize(q16, per_tensor, torch::kFloat32, "t"), torch::tensor({2.f, -2.f})));
  const auto misfit = variable("w_scale", {3}, asr::Ct2DType::kF32, f32_bytes({1.f, 1.f, 1.f}));
  EXPECT_NE(error_of([&] { asr::ct2_dequantize(q, misfit, torch::kFloat32, "t"); }).find("3 scale values do not fit w"),
            std::string::npos);
  const auto f16_scale = variable("w_scale", {2}, asr::Ct2DType::kF16, {0, 0x3c, 0, 0x3c});
  EXPECT_NE(error_of([&] { asr::ct2_dequantize(q, f16_scale, torch::kFloat32, "t"); }).find("must be float32"),
            std::string::npos);
  const auto i32 = variable("n", {2}, asr::Ct2DType::kI32, {0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_NE(error_of([&] { asr::ct2_dequantize(i32, per_tensor, torch::kFloat32, "t"); }).find("only int8 and int16"),
            std::string::npos);
}
