#pragma once
// Reference files written by a Python script of tests/ (transformers,
// ctranslate2, ...) into a fresh folder, made on first use in this process and
// kept for its other tests: `python <script> <folder> > <folder>/log 2>&1`.
// And the lookup of one tensor among what a reference saved.
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "models/safetensors.h"
#include "tests/common/temp_dir.h"

namespace medtrain::testing {

// `script`: relative to the source tree, e.g. "tests/models/bert_reference.py".
inline const std::filesystem::path& python_reference(const std::string& script) {
  static std::map<std::string, std::unique_ptr<TempDir>> made;
  auto& dir = made[script];
  if (!dir) {
    auto fresh = std::make_unique<TempDir>("medtrain_ref");
    const std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR + "/" + script + " " +
                            fresh->str() + " > " + fresh->str() + "/log 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("reference failed (see its log): " + cmd);
    dir = std::move(fresh);
  }
  return dir->path();
}

inline torch::Tensor tensor_named(const models::SafetensorsFile& f, const std::string& name) {
  for (const auto& [k, v] : f.tensors) {
    if (k == name) return v;
  }
  throw std::runtime_error("no tensor " + name);
}

}  // namespace medtrain::testing
