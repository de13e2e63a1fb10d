#include "kernels/tensor_checks.h"

#include <c10/util/Exception.h>

namespace medtrain::kernels::detail {

void check_dense(const at::Tensor& t, const char* op, const std::string& name,
                 c10::ScalarType dtype, const c10::Device& device) {
  TORCH_CHECK(t.defined(), op, ": ", name, " is undefined");
  TORCH_CHECK(t.scalar_type() == dtype, op, ": ", name, " must be ", dtype, ", got ",
              t.scalar_type());
  TORCH_CHECK(t.device() == device, op, ": ", name, " is on ", t.device(), " but the op runs on ",
              device, "; move every argument to one device");
  TORCH_CHECK(t.layout() == c10::kStrided, op, ": ", name, " must be a dense (strided) tensor");
  TORCH_CHECK(t.is_contiguous(), op, ": ", name, " is not contiguous (sizes ", t.sizes(),
              ", strides ", t.strides(), "); pass .contiguous()");
}

void check_list(at::TensorList list, const char* op, const char* name, size_t n,
                c10::ScalarType dtype, const c10::Device& device, at::TensorList like) {
  TORCH_CHECK(list.size() == n, op, ": ", name, " has ", list.size(), " tensors, expected ", n);
  for (size_t i = 0; i < n; ++i) {
    const std::string what = std::string(name) + "[" + std::to_string(i) + "]";
    const at::Tensor& t = list[i];
    TORCH_CHECK(t.defined(), op, ": ", what, " is undefined");
    TORCH_CHECK(t.scalar_type() == dtype, op, ": ", what, " must be ", dtype, ", got ", t.scalar_type());
    TORCH_CHECK(t.device() == device, op, ": ", what, " is on ", t.device(), " but the op runs on ",
                device, "; move every argument to one device");
    TORCH_CHECK(t.layout() == c10::kStrided && t.is_non_overlapping_and_dense(), op, ": ", what,
                " is not dense (sizes ", t.sizes(), ", strides ", t.strides(), "); pass .contiguous()");
    TORCH_CHECK(t.sizes() == like[i].sizes() && t.strides() == like[i].strides(), op, ": ", what,
                " has sizes ", t.sizes(), " strides ", t.strides(), " but the parameter has sizes ",
                like[i].sizes(), " strides ", like[i].strides());
  }
}

void check_scalar_tensor(const at::Tensor& t, const char* op, const char* name,
                         const c10::Device& device) {
  check_dense(t, op, name, c10::kFloat, device);
  TORCH_CHECK(t.numel() == 1, op, ": ", name, " must hold one element, got ", t.numel());
}

}  // namespace medtrain::kernels::detail
