#include "models/pretrained/torch_legacy_reader.h"

#include <ATen/ops/empty.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "models/model_error.h"
#include "models/pretrained/torch_tensors.h"

namespace medtrain::models::pretrained {
namespace {

using Kind = PickleValue::Kind;

// pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2): PROTO 2, LONG1 of 10 bytes, STOP.
constexpr unsigned char kMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                    0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
constexpr int64_t kProtocolVersion = 1001;

struct StorageRef {
  std::string key;
  at::ScalarType dtype;
};

class LegacyFile {
 public:
  LegacyFile(std::string bytes, std::string origin) : bytes_(std::move(bytes)), origin_(std::move(origin)) {}

  PickleRef read() {
    if (!is_torch_legacy(bytes_)) fail("bad magic number");
    pos_ = sizeof kMagic;
    const PickleRef version = next({});
    if (version->kind != Kind::kInt || version->integer != kProtocolVersion) fail("unknown protocol version");
    next({});  // sys info
    const size_t object_pos = pos_;
    PickleHooks skim;  // first pass: learn each storage's dtype from its persistent id
    skim.persistent_load = [&](const PickleRef& pid) {
      const StorageRef s = storage_ref(pid);
      dtypes_[s.key] = s.dtype;
      return PickleValue::make(Kind::kNone);
    };
    next(skim);
    read_storages(next({}));
    pos_ = object_pos;
    PickleHooks hooks;
    hooks.persistent_load = [&](const PickleRef& pid) { return storage(pid); };
    hooks.reduce = [&](const std::string& g, const PickleRef& args) { return rebuild_tensor(g, args, origin_); };
    return next(hooks);
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw ModelError(origin_ + ": " + problem); }

  PickleRef next(const PickleHooks& hooks) {
    size_t used = 0;
    PickleRef v = read_pickle(bytes_.data() + pos_, bytes_.size() - pos_, hooks, origin_, &used);
    pos_ += used;
    return v;
  }

  StorageRef storage_ref(const PickleRef& pid) const {
    const auto& t = pid->items;
    if (pid->kind != Kind::kTuple || t.size() != 6 || t[0]->kind != Kind::kString || t[0]->text != "storage" ||
        t[1]->kind != Kind::kGlobal || t[2]->kind != Kind::kString) {
      fail("a persistent id is not ('storage', type, key, location, numel, view)");
    }
    return {t[2]->text, storage_dtype(t[1]->text, origin_)};
  }

  void read_storages(const PickleRef& keys) {
    if (keys->kind != Kind::kList) fail("the storage key list is missing");
    for (const auto& k : keys->items) {
      if (k->kind != Kind::kString || !dtypes_.count(k->text)) fail("storage key list names an unknown storage");
      const at::ScalarType dtype = dtypes_.at(k->text);
      const uint64_t itemsize = c10::elementSize(dtype);
      if (bytes_.size() - pos_ < 8) fail("truncated before the data of storage " + k->text);
      uint64_t numel = 0;
      for (int i = 0; i < 8; ++i) numel |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
      pos_ += 8;
      if (numel > (bytes_.size() - pos_) / itemsize) {
        fail("storage " + k->text + " needs " + std::to_string(numel) + " elements of " + c10::toString(dtype) +
             " but the file has " + std::to_string(bytes_.size() - pos_) + " bytes left (truncated?)");
      }
      at::Tensor t = at::empty({static_cast<int64_t>(numel)}, at::TensorOptions().dtype(dtype));
      if (numel > 0) std::memcpy(t.data_ptr(), bytes_.data() + pos_, numel * itemsize);
      pos_ += numel * itemsize;
      storages_[k->text] = t;
    }
  }

  PickleRef storage(const PickleRef& pid) {
    const StorageRef s = storage_ref(pid);
    auto it = storages_.find(s.key);
    if (it == storages_.end()) fail("storage " + s.key + " has no data in the file");
    auto v = PickleValue::make(Kind::kTensor);
    v->tensor = it->second;
    const PickleRef& view = pid->items[5];  // (view key, offset, size) or None
    if (view->kind == Kind::kTuple) {
      const auto& f = view->items;
      if (f.size() != 3 || f[1]->kind != Kind::kInt || f[2]->kind != Kind::kInt || f[1]->integer < 0 ||
          f[2]->integer < 0 || f[1]->integer > v->tensor.numel() - f[2]->integer) {
        fail("a storage view lies outside storage " + s.key);
      }
      v->tensor = v->tensor.narrow(0, f[1]->integer, f[2]->integer);
    }
    return v;
  }

  std::string bytes_;
  std::string origin_;
  size_t pos_ = 0;
  std::map<std::string, at::ScalarType> dtypes_;
  std::map<std::string, at::Tensor> storages_;
};

}  // namespace

bool is_torch_legacy(const std::string& head) {
  return head.size() >= sizeof kMagic && std::memcmp(head.data(), kMagic, sizeof kMagic) == 0;
}

PickleRef read_torch_legacy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError("cannot open pretrained weights " + path.string());
  std::stringstream s;
  s << in.rdbuf();
  return LegacyFile(s.str(), "PyTorch file " + path.string() + " (legacy format)").read();
}

}  // namespace medtrain::models::pretrained
