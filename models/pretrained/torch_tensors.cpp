#include "models/pretrained/torch_tensors.h"

#include <map>
#include <vector>

#include "models/model_error.h"

namespace medtrain::models::pretrained {
namespace {

using Kind = PickleValue::Kind;

void check_in_bounds(int64_t numel, int64_t offset, const std::vector<int64_t>& sizes,
                     const std::vector<int64_t>& strides, const std::string& origin) {
  if (offset < 0) throw ModelError(origin + ": negative storage offset");
  int64_t last = offset;  // index of the last element the view touches
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 0) return;  // empty view: touches nothing
    int64_t span = 0;
    if (__builtin_mul_overflow(sizes[i] - 1, strides[i], &span) || __builtin_add_overflow(last, span, &last)) {
      throw ModelError(origin + ": tensor view overflows");
    }
  }
  if (last >= numel) {
    throw ModelError(origin + ": a tensor view reaches element " + std::to_string(last) + " of a storage of " +
                     std::to_string(numel));
  }
}

}  // namespace

at::ScalarType storage_dtype(const std::string& global, const std::string& origin) {
  static const std::map<std::string, at::ScalarType> kTypes = {
      {"torch.FloatStorage", at::kFloat},   {"torch.DoubleStorage", at::kDouble},
      {"torch.HalfStorage", at::kHalf},     {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},     {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},   {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},     {"torch.BoolStorage", at::kBool},
      {"torch.ComplexFloatStorage", at::kComplexFloat}, {"torch.ComplexDoubleStorage", at::kComplexDouble},
  };
  auto it = kTypes.find(global);
  if (it == kTypes.end()) throw ModelError(origin + ": storage type " + global + " is not supported");
  return it->second;
}

PickleRef rebuild_tensor(const std::string& global, const PickleRef& args, const std::string& origin) {
  const auto& a = args->items;
  if (global == "torch._utils._rebuild_parameter" || global == "torch._utils._rebuild_parameter_with_state") {
    if (args->kind != Kind::kTuple || a.empty() || a[0]->kind != Kind::kTensor) {
      throw ModelError(origin + ": " + global + " without a tensor");
    }
    return a[0];
  }
  if (global != "torch._utils._rebuild_tensor_v2" && global != "torch._utils._rebuild_tensor") return nullptr;
  if (args->kind != Kind::kTuple || a.size() < 4 || a[0]->kind != Kind::kTensor || a[1]->kind != Kind::kInt ||
      a[2]->kind != Kind::kTuple || a[3]->kind != Kind::kTuple || a[2]->items.size() != a[3]->items.size()) {
    throw ModelError(origin + ": " + global + " with unexpected arguments");
  }
  const at::Tensor& storage = a[0]->tensor;
  std::vector<int64_t> sizes, strides;
  for (size_t i = 0; i < a[2]->items.size(); ++i) {
    const auto& size = a[2]->items[i];
    const auto& stride = a[3]->items[i];
    if (size->kind != Kind::kInt || stride->kind != Kind::kInt || size->integer < 0 || stride->integer < 0) {
      throw ModelError(origin + ": " + global + ": size and stride must be non-negative integers");
    }
    sizes.push_back(size->integer);
    strides.push_back(stride->integer);
  }
  check_in_bounds(storage.numel(), a[1]->integer, sizes, strides, origin);
  auto v = PickleValue::make(Kind::kTensor);
  v->tensor = storage.as_strided(sizes, strides, a[1]->integer).clone(at::MemoryFormat::Contiguous);
  return v;
}

}  // namespace medtrain::models::pretrained
