#pragma once
// A restricted reader of Python pickles: the subset of protocols 2-5 that
// torch.save writes for state dicts (dicts, OrderedDicts, lists, tuples,
// strings, numbers, tensor storages by persistent id). It never runs code:
// a global is only a name, and calling one (REDUCE) is answered by the caller's
// hook or becomes an opaque value. That is why LibTorch's own
// torch::pickle_load is not used: it turns every collections.OrderedDict into
// None (it expects them only as tensor backward hooks), and a Python
// state_dict() is an OrderedDict.
// Malformed input (truncated, unknown opcode, stack underflow, bad memo index)
// is a ModelError naming the origin and the byte offset.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace medtrain::models::pretrained {

struct PickleValue;
using PickleRef = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal, kTensor, kOpaque };
  Kind kind = Kind::kNone;
  int64_t integer = 0;     // kBool (0/1), kInt
  double real = 0.0;       // kFloat
  std::string text;        // kString, kBytes; kGlobal: "module.name"; kOpaque: what it was
  std::vector<PickleRef> items;                       // kTuple, kList
  std::vector<std::pair<PickleRef, PickleRef>> entries;  // kDict, in insertion order
  at::Tensor tensor;       // kTensor (a tensor, or a whole storage as a 1-D tensor)

  static PickleRef make(Kind kind) {
    auto v = std::make_shared<PickleValue>();
    v->kind = kind;
    return v;
  }
};

struct PickleHooks {
  // BINPERSID: the persistent id (for torch.save, a tuple naming a storage).
  std::function<PickleRef(const PickleRef& pid)> persistent_load;
  // REDUCE of a global other than collections.OrderedDict; nullptr -> opaque.
  std::function<PickleRef(const std::string& global, const PickleRef& args)> reduce;
};

// Reads one pickle from the start of [data, data + size); `consumed` (if not
// null) receives its length in bytes (the legacy torch.save format is several
// pickles and raw data back to back).
PickleRef read_pickle(const char* data, size_t size, const PickleHooks& hooks, const std::string& origin,
                      size_t* consumed = nullptr);

}  // namespace medtrain::models::pretrained
