#pragma once
// Finding a model's sub-modules by their dotted state-dict path
// ("layer1.0.conv1"), so that inference graphs can be built from any model
// whose names follow the reference implementation, without friend access.
#include <torch/nn/module.h>

#include <memory>
#include <string>

#include "models/model_error.h"

namespace medtrain::models {

class ModuleLookup {
 public:
  explicit ModuleLookup(const torch::nn::Module& root) : modules_(root.named_modules()) {}

  bool has(const std::string& path) const { return modules_.contains(path); }

  // ModelError naming the path when it is missing or of another type.
  template <typename Impl>
  const Impl& get(const std::string& path) const {
    const auto* found = modules_.find(path);
    const Impl* m = found == nullptr ? nullptr : dynamic_cast<const Impl*>(found->get());
    if (m == nullptr) throw ModelError("inference graph: no module '" + path + "' of the expected type");
    return *m;
  }

 private:
  torch::OrderedDict<std::string, std::shared_ptr<torch::nn::Module>> modules_;
};

}  // namespace medtrain::models
