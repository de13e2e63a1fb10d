#include "models/pretrained/torch_zip_reader.h"

#include <ATen/ops/empty.h>
#include <caffe2/serialize/inline_container.h>
#include <c10/util/Exception.h>

#include <cstring>
#include <map>

#include "models/model_error.h"
#include "models/pretrained/torch_tensors.h"

namespace medtrain::models::pretrained {
namespace {

using Kind = PickleValue::Kind;

std::string first_line(const char* what) {
  std::string s(what);
  return s.substr(0, s.find('\n'));
}

class ZipTensors {
 public:
  ZipTensors(caffe2::serialize::PyTorchStreamReader& zip, std::string origin)
      : zip_(zip), origin_(std::move(origin)) {}

  // pid = ('storage', <storage type>, key, location, numel)
  PickleRef storage(const PickleRef& pid) {
    const auto& t = pid->items;
    if (pid->kind != Kind::kTuple || t.size() != 5 || t[0]->kind != Kind::kString || t[0]->text != "storage" ||
        t[1]->kind != Kind::kGlobal || t[2]->kind != Kind::kString || t[4]->kind != Kind::kInt || t[4]->integer < 0) {
      fail("a persistent id is not ('storage', type, key, location, numel)");
    }
    const std::string& key = t[2]->text;
    auto cached = storages_.find(key);
    if (cached != storages_.end()) return cached->second;
    const at::ScalarType dtype = storage_dtype(t[1]->text, origin_);
    const std::string record = "data/" + key;
    if (!zip_.hasRecord(record)) fail("storage record " + record + " is missing (file truncated?)");
    auto [data, size] = zip_.getRecord(record);
    const uint64_t numel = static_cast<uint64_t>(t[4]->integer);
    const uint64_t itemsize = c10::elementSize(dtype);
    if (numel > size / itemsize) {
      fail("storage " + record + " holds " + std::to_string(size) + " bytes but " + std::to_string(numel) +
           " elements of " + c10::toString(dtype) + " need " + std::to_string(numel * itemsize));
    }
    auto v = PickleValue::make(Kind::kTensor);
    v->tensor = at::empty({static_cast<int64_t>(numel)}, at::TensorOptions().dtype(dtype));
    if (numel > 0) std::memcpy(v->tensor.data_ptr(), data.get(), numel * itemsize);
    storages_[key] = v;
    return v;
  }

  PickleRef rebuild(const std::string& global, const PickleRef& args) {
    return rebuild_tensor(global, args, origin_);
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw ModelError(origin_ + ": " + problem); }

  caffe2::serialize::PyTorchStreamReader& zip_;
  std::string origin_;
  std::map<std::string, PickleRef> storages_;
};

}  // namespace

PickleRef read_torch_zip(const std::filesystem::path& path) {
  const std::string origin = "PyTorch file " + path.string();
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> zip;
  try {
    zip = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path.string());
    if (zip->hasRecord(".data/byteorder")) {
      auto [data, size] = zip->getRecord(".data/byteorder");
      if (std::string(static_cast<const char*>(data.get()), size) != "little") {
        throw ModelError(origin + ": written on a big-endian machine; load and re-save it on a little-endian one");
      }
    }
    if (!zip->hasRecord("data.pkl")) {
      throw ModelError(origin + ": no data.pkl record (a TorchScript archive? save a state_dict with torch.save)");
    }
    auto [pkl, pkl_size] = zip->getRecord("data.pkl");
    ZipTensors tensors(*zip, origin);
    PickleHooks hooks;
    hooks.persistent_load = [&](const PickleRef& pid) { return tensors.storage(pid); };
    hooks.reduce = [&](const std::string& g, const PickleRef& args) { return tensors.rebuild(g, args); };
    return read_pickle(static_cast<const char*>(pkl.get()), pkl_size, hooks, origin + " (data.pkl)");
  } catch (const c10::Error& e) {
    throw ModelError(origin + ": not a readable PyTorch zip file (" + first_line(e.what()) + ")");
  }
}

namespace {

const PickleRef* dict_get(const PickleRef& dict, const std::string& key) {
  for (const auto& [k, v] : dict->entries) {
    if (k->kind == Kind::kString && k->text == key) return &v;
  }
  return nullptr;
}

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kBytes: return "bytes";
    case Kind::kTuple: return "tuple";
    case Kind::kList: return "list";
    case Kind::kDict: return "dict";
    case Kind::kGlobal: return "a class or function";
    case Kind::kTensor: return "tensor";
    case Kind::kOpaque: return "an object";
  }
  return "?";
}

}  // namespace

NamedTensors tensors_of_state_dict(const PickleRef& root, const std::string& origin, std::string* note) {
  if (root->kind != Kind::kDict) {
    throw ModelError(origin + ": holds a " + std::string(kind_name(root->kind)) +
                     ", not a state dict (save model.state_dict(), not the model)");
  }
  PickleRef dict = root;
  for (const char* key : {"state_dict", "model_state_dict", "model"}) {
    const PickleRef* inner = dict_get(root, key);
    if (inner != nullptr && (*inner)->kind == Kind::kDict) {
      dict = *inner;
      if (note) *note = std::string("took the state dict under the top-level key \"") + key + "\"";
      break;
    }
  }
  NamedTensors out;
  std::vector<std::string> bad;
  for (const auto& [k, v] : dict->entries) {
    if (k->kind != Kind::kString) {
      bad.push_back(std::string("a key of type ") + kind_name(k->kind));
    } else if (v->kind != Kind::kTensor) {
      bad.push_back("\"" + k->text + "\" (" + kind_name(v->kind) + ")");
    } else {
      out.emplace_back(k->text, v->tensor);
    }
  }
  if (!bad.empty()) {
    std::string list;
    for (size_t i = 0; i < bad.size() && i < 10; ++i) list += (i ? ", " : "") + bad[i];
    if (bad.size() > 10) list += ", ... (" + std::to_string(bad.size()) + " in all)";
    throw ModelError(origin + ": not a state dict of tensors: " + list +
                     " (expected name -> tensor, optionally under a top-level \"state_dict\" key)");
  }
  return out;
}

}  // namespace medtrain::models::pretrained
