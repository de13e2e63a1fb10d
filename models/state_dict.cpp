#include "models/state_dict.h"

#include <c10/util/irange.h>
#include <torch/types.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "models/model_error.h"

namespace medtrain::models {

NamedTensors state_dict(const torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& item : module.named_parameters()) out.emplace_back(item.key(), item.value().detach());
  for (const auto& item : module.named_buffers()) out.emplace_back(item.key(), item.value().detach());
  return out;
}

namespace {

bool skipped(const std::string& key, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const std::string& p) { return key.rfind(p, 0) == 0; });
}

std::string shape_of(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

std::string join_limited(const std::vector<std::string>& items) {
  constexpr size_t kShown = 8;  // enough to recognise the pattern, short enough for one line
  std::string out;
  for (size_t i = 0; i < items.size() && i < kShown; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > kShown) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
}

}  // namespace

void load_state_dict(torch::nn::Module& module, const NamedTensors& tensors,
                     const LoadOptions& options) {
  std::map<std::string, torch::Tensor> given(tensors.begin(), tensors.end());
  std::vector<std::string> missing, mismatched;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  for (const auto& [key, target] : state_dict(module)) {
    if (skipped(key, options.skip_prefixes)) {
      given.erase(key);
      continue;
    }
    auto it = given.find(key);
    if (it == given.end()) {
      missing.push_back(key);
      continue;
    }
    if (it->second.sizes() != target.sizes()) {
      mismatched.push_back(key + " " + shape_of(it->second) + " vs model " + shape_of(target));
    } else {
      copies.emplace_back(target, it->second);
    }
    given.erase(it);
  }
  std::vector<std::string> unexpected;
  for (const auto& [key, _] : given) {
    if (!skipped(key, options.skip_prefixes)) unexpected.push_back(key);
  }
  std::vector<std::string> problems;
  if (!mismatched.empty()) problems.push_back("shape mismatch: " + join_limited(mismatched));
  if (options.strict && !missing.empty()) problems.push_back("missing: " + join_limited(missing));
  if (options.strict && !unexpected.empty()) problems.push_back("unexpected: " + join_limited(unexpected));
  if (!problems.empty()) {
    std::string msg = options.origin + " does not fit the model: ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    throw ModelError(msg);
  }
  torch::NoGradGuard no_grad;
  for (auto& [target, value] : copies) target.copy_(value);
}

}  // namespace medtrain::models
