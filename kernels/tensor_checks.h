#pragma once
// Argument checks shared by the LibTorch-facing ops: each failure is a
// c10::Error whose message names the op, the argument and how to fix it.
#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <string>

namespace medtrain::kernels::detail {

// `t` is a dense, contiguous tensor of `dtype` on `device`.
void check_dense(const at::Tensor& t, const char* op, const std::string& name,
                 c10::ScalarType dtype, const c10::Device& device);

// An elementwise operand list of length `n`: tensor i is dense (no gaps, no
// overlap; channels_last is fine) with the sizes and strides of like[i], so the
// kernels may walk all operands as flat arrays.
void check_list(at::TensorList list, const char* op, const char* name, size_t n,
                c10::ScalarType dtype, const c10::Device& device, at::TensorList like);

// A 1-element fp32 tensor on `device` (AMP scale / found_inf flags).
void check_scalar_tensor(const at::Tensor& t, const char* op, const char* name,
                         const c10::Device& device);

}  // namespace medtrain::kernels::detail
