#include "models/pretrained/input_adaptation.h"

#include <map>
#include <sstream>

#include "models/model_error.h"
#include "models/state_dict.h"

namespace medtrain::models::pretrained {
namespace {

std::map<std::string, torch::Tensor> by_name(const torch::nn::Module& model) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [k, v] : state_dict(model)) out.emplace(k, v);
  return out;
}

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

bool differs_only_in_input_channels(const torch::Tensor& given, const torch::Tensor& target) {
  if (given.dim() < 3 || given.dim() != target.dim() || target.size(1) != 1 || given.size(1) <= 1) return false;
  for (int64_t d = 0; d < given.dim(); ++d) {
    if (d != 1 && given.size(d) != target.size(d)) return false;
  }
  return true;
}

}  // namespace

void adapt_input_channels(NamedTensors& tensors, const torch::nn::Module& model, std::vector<std::string>& notes) {
  const auto targets = by_name(model);
  for (auto& [key, value] : tensors) {
    auto it = targets.find(key);
    if (it == targets.end() || !differs_only_in_input_channels(value, it->second)) continue;
    const std::string from = shape_of(value);
    const int64_t channels = value.size(1);
    // See Note [Grey input from RGB weights].
    value = value.sum(1, /*keepdim=*/true);
    notes.push_back(key + ": summed its " + std::to_string(channels) + " input channels " + from + " -> " +
                    shape_of(value) + " for single-channel input (keeps the activation scale)");
  }
}

void conform_dtypes(NamedTensors& tensors, const torch::nn::Module& model, const std::string& origin,
                    std::vector<std::string>& notes) {
  const auto targets = by_name(model);
  std::vector<std::string> bad;
  std::map<std::string, int> casts;  // "Half -> Float" -> count
  for (auto& [key, value] : tensors) {
    auto it = targets.find(key);
    if (it == targets.end() || value.scalar_type() == it->second.scalar_type()) continue;
    const auto from = value.scalar_type(), to = it->second.scalar_type();
    const bool ok = !c10::isComplexType(from) && from != at::kBool &&
                    (c10::isFloatingType(to) ? c10::isFloatingType(from) : !c10::isFloatingType(from));
    const std::string what = std::string(c10::toString(from)) + " -> " + c10::toString(to);
    if (!ok) {
      bad.push_back(key + " (" + what + ")");
      continue;
    }
    value = value.to(to);
    ++casts[what];
  }
  if (!bad.empty()) {
    std::string list;
    for (size_t i = 0; i < bad.size() && i < 10; ++i) list += (i ? ", " : "") + bad[i];
    if (bad.size() > 10) list += ", ... (" + std::to_string(bad.size()) + " in all)";
    throw ModelError(origin + ": " + std::to_string(bad.size()) +
                     " tensors have a dtype the model cannot take: " + list);
  }
  for (const auto& [what, n] : casts) notes.push_back("converted " + std::to_string(n) + " tensors " + what);
}

}  // namespace medtrain::models::pretrained
