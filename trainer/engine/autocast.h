#pragma once
// Scoped mixed precision: inside the guard, eligible ops on `device` run in
// bf16 or fp16 (LibTorch autocast); fp32 makes the guard a no-op.
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <optional>
#include <string>

namespace medtrain::engine {

// "fp32" -> nullopt, "bf16" -> BFloat16, "fp16" -> Half.
std::optional<c10::ScalarType> autocast_dtype(const std::string& precision);

class AutocastGuard {
 public:
  AutocastGuard(c10::DeviceType device, std::optional<c10::ScalarType> dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  c10::DeviceType device_;
  bool active_ = false;
  bool prev_enabled_ = false;
  c10::ScalarType prev_dtype_ = c10::ScalarType::Float;
};

}  // namespace medtrain::engine
