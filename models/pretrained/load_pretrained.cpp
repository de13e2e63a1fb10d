#include "models/pretrained/load_pretrained.h"

#include <algorithm>
#include <set>

#include "models/pretrained/input_adaptation.h"
#include "models/pretrained/key_mapping.h"
#include "models/pretrained/weight_file.h"
#include "models/state_dict.h"

namespace medtrain::models::pretrained {
namespace {

bool skipped(const std::string& key, const std::vector<std::string>& skip) {
  return std::any_of(skip.begin(), skip.end(), [&](const std::string& p) {
    if (p.empty()) return false;
    if (p.back() == '.') return key.compare(0, p.size(), p) == 0;
    return key == p || key.compare(0, p.size() + 1, p + ".") == 0;
  });
}

// Files saved before PyTorch 0.4.1 (torchvision's DenseNet weights among them)
// have no BatchNorm num_batches_tracked; PyTorch's BatchNorm loader leaves it
// at 0 then, and so do we. It only matters for momentum=None BatchNorm.
void tolerate_missing_batch_counters(const torch::nn::Module& model, const NamedTensors& tensors,
                                     LoadOptions& load, std::vector<std::string>& notes) {
  const std::string kCounter = ".num_batches_tracked";
  std::set<std::string> given;
  for (const auto& kv : tensors) given.insert(kv.first);
  size_t absent = 0;
  for (const auto& [key, _] : state_dict(model)) {
    if (key.size() > kCounter.size() && key.compare(key.size() - kCounter.size(), kCounter.size(), kCounter) == 0 &&
        !given.count(key) &&
        std::find(load.skip_prefixes.begin(), load.skip_prefixes.end(), key) == load.skip_prefixes.end()) {
      load.skip_prefixes.push_back(key);
      ++absent;
    }
  }
  if (absent > 0) {
    notes.push_back(std::to_string(absent) + " BatchNorm num_batches_tracked counters are not in the file "
                    "(saved before PyTorch 0.4.1): left at 0, as PyTorch does");
  }
}

}  // namespace

PretrainedReport apply_pretrained(torch::nn::Module& model, NamedTensors tensors, const std::string& origin,
                                  const PretrainedOptions& options) {
  PretrainedReport report;
  report.format = "tensors";
  normalize_keys(tensors, report.notes);
  tensors.erase(std::remove_if(tensors.begin(), tensors.end(),
                               [&](const auto& kv) { return skipped(kv.first, options.skip); }),
                tensors.end());
  // load_state_dict skips by prefix; exact model names are the prefixes that
  // skip precisely what `options.skip` means.
  LoadOptions load{true, {}, origin};
  for (const auto& [key, _] : state_dict(model)) {
    if (skipped(key, options.skip)) load.skip_prefixes.push_back(key);
  }
  report.skipped = load.skip_prefixes.size();
  tolerate_missing_batch_counters(model, tensors, load, report.notes);
  for (const auto& p : options.skip) {
    const bool used = std::any_of(load.skip_prefixes.begin(), load.skip_prefixes.end(),
                                  [&](const std::string& key) { return skipped(key, {p}); });
    if (!used) report.notes.push_back("skip entry \"" + p + "\" matches no tensor of the model");
  }
  adapt_input_channels(tensors, model, report.notes);
  conform_dtypes(tensors, model, origin, report.notes);
  load_state_dict(model, tensors, load);
  report.loaded = tensors.size();
  if (report.skipped > 0) {
    report.notes.push_back("left " + std::to_string(report.skipped) + " tensors at their initial values (skip)");
  }
  return report;
}

PretrainedReport load_pretrained(torch::nn::Module& model, const std::filesystem::path& path,
                                 const PretrainedOptions& options) {
  WeightFile file = read_weight_file(path);
  PretrainedReport report = apply_pretrained(model, std::move(file.tensors), file.format + " " + path.string(), options);
  report.format = file.format;
  report.notes.insert(report.notes.begin(), file.notes.begin(), file.notes.end());
  return report;
}

}  // namespace medtrain::models::pretrained
