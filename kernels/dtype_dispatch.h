#pragma once
// Maps a tensor's dtype to the DType tag of the raw launchers, refusing what
// the kernels do not implement (fp64 exists on the CPU reference path only).
#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include "kernels/host_device.h"

namespace medtrain::kernels::detail {

inline DType dtype_tag(const at::Tensor& t, const char* op, const char* name) {
  switch (t.scalar_type()) {
    case c10::kFloat:
      return DType::kF32;
    case c10::kBFloat16:
      return DType::kBF16;
    case c10::kDouble:
      TORCH_CHECK(t.device().is_cpu(), op, ": ", name, " is float64, which only the CPU path supports");
      return DType::kF64;
    default:
      TORCH_CHECK(false, op, ": ", name, " must be float32 or bfloat16 (float64 on the CPU), got ",
                  t.scalar_type());
  }
}

}  // namespace medtrain::kernels::detail
