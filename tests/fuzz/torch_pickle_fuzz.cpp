// libFuzzer target for the PyTorch weight readers (models/pretrained/):
// the restricted pickle machine (pickle_reader.h), the tensor rebuild
// (torch_tensors.h), the zip format (torch_zip_reader.h) and the legacy
// format (torch_legacy_reader.h). Any byte string must either give a state
// dict or raise ModelError, never crash, hang, over-allocate or read out of
// bounds. Our sources are compiled with ASan/UBSan; LibTorch (its allocator,
// ops and caffe2's zip reader) comes uninstrumented from the torch wheel.
// Built by tests/fuzz/run_fuzz.sh; seeds are tiny state dicts written by
// torch.save in both formats (tests/fuzz/parser_seeds.py).
//
// The first byte picks what the rest is: 0 = one pickle given straight to the
// machine, with persistent ids answered by small zero storages (so mutations
// reach the rebuild's bounds checks without a zip around them); 1 = a zip file
// (torch.save); 2 = a legacy file. Both files go through
// tensors_of_state_dict as weight_file.cpp does.
#include <unistd.h>

#include <ATen/ops/zeros.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include "models/model_error.h"
#include "models/pretrained/pickle_reader.h"
#include "models/pretrained/torch_legacy_reader.h"
#include "models/pretrained/torch_tensors.h"
#include "models/pretrained/torch_zip_reader.h"

namespace pretrained = medtrain::models::pretrained;
using Kind = pretrained::PickleValue::Kind;

namespace {

std::string scratch_path() {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/medtrain_torch_pickle_fuzz_" + std::to_string(getpid()) + ".pt";
}

// pid = ('storage', <storage type>, key, location, numel[, view]): zeros of
// that type, at most 64 elements (the file readers check numel against data).
pretrained::PickleRef small_storage(const pretrained::PickleRef& pid) {
  const auto& t = pid->items;
  if (pid->kind != Kind::kTuple || t.size() < 5 || t[1]->kind != Kind::kGlobal || t[4]->kind != Kind::kInt) {
    throw medtrain::models::ModelError("fuzz: not a storage id");
  }
  const int64_t numel = std::min<int64_t>(std::max<int64_t>(t[4]->integer, 0), 64);
  auto v = pretrained::PickleValue::make(Kind::kTensor);
  v->tensor = at::zeros({numel}, at::TensorOptions().dtype(pretrained::storage_dtype(t[1]->text, "fuzz")));
  return v;
}

void touch(const medtrain::models::NamedTensors& tensors) {
  volatile int64_t sum = 0;
  for (const auto& [name, t] : tensors) {
    if (!t.is_contiguous() || t.numel() * static_cast<int64_t>(t.element_size()) != static_cast<int64_t>(t.nbytes())) {
      __builtin_trap();
    }
    const auto* p = static_cast<const uint8_t*>(t.data_ptr());
    for (size_t i = 0; i < t.nbytes(); ++i) sum = sum + p[i];
    sum = sum + static_cast<int64_t>(name.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0] % 3;
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  --size;
  try {
    if (mode == 0) {
      pretrained::PickleHooks hooks;
      hooks.persistent_load = small_storage;
      hooks.reduce = [](const std::string& g, const pretrained::PickleRef& args) {
        return pretrained::rebuild_tensor(g, args, "fuzz");
      };
      pretrained::read_pickle(bytes, size, hooks, "fuzz");
      return 0;
    }
    static const std::string path = scratch_path();
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return 0;
    if (size > 0) std::fwrite(bytes, 1, size, f);
    std::fclose(f);
    const pretrained::PickleRef root =
        mode == 1 ? pretrained::read_torch_zip(path) : pretrained::read_torch_legacy(path);
    touch(pretrained::tensors_of_state_dict(root, "fuzz", nullptr));
  } catch (const medtrain::models::ModelError&) {
    // the expected outcome for bad input
  }
  return 0;
}
