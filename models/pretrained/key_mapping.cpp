#include "models/pretrained/key_mapping.h"

#include <algorithm>
#include <regex>

namespace medtrain::models::pretrained {
namespace {

bool all_start_with(const NamedTensors& tensors, const std::string& prefix) {
  return !tensors.empty() && std::all_of(tensors.begin(), tensors.end(), [&](const auto& kv) {
           return kv.first.size() > prefix.size() && kv.first.compare(0, prefix.size(), prefix) == 0;
         });
}

}  // namespace

void normalize_keys(NamedTensors& tensors, std::vector<std::string>& notes) {
  for (bool changed = true; changed;) {
    changed = false;
    for (const std::string prefix : {"module.", "model."}) {
      if (!all_start_with(tensors, prefix)) continue;
      for (auto& kv : tensors) kv.first.erase(0, prefix.size());
      notes.push_back("dropped the prefix \"" + prefix + "\" shared by every key");
      changed = true;
    }
  }
  static const std::regex kLegacyDenseNet(
      R"(^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$)");
  size_t renamed = 0;
  for (auto& kv : tensors) {
    if (kv.first.find("denselayer") == std::string::npos) continue;  // std::regex is slow: filter first
    std::smatch m;
    if (std::regex_match(kv.first, m, kLegacyDenseNet)) {
      kv.first = m[1].str() + m[2].str();
      ++renamed;
    }
  }
  if (renamed > 0) {
    notes.push_back("renamed " + std::to_string(renamed) +
                    " legacy DenseNet keys (\"norm.1\" -> \"norm1\", as torchvision does)");
  }
}

}  // namespace medtrain::models::pretrained
