#pragma once
// What both torch.save formats (zip, and the legacy one before PyTorch 1.6)
// share: storages named by their legacy typed-storage class, and tensors
// rebuilt from a storage by torch._utils._rebuild_tensor_v2 and friends.
#include <ATen/core/Tensor.h>

#include <string>

#include "models/pretrained/pickle_reader.h"

namespace medtrain::models::pretrained {

// "torch.FloatStorage" -> kFloat; ModelError (naming `origin`) for others.
at::ScalarType storage_dtype(const std::string& global, const std::string& origin);

// A PickleHooks::reduce for torch's tensor globals: the tensor (contiguous,
// owned) for _rebuild_tensor_v2 / _rebuild_tensor / _rebuild_parameter*,
// after checking that the view lies inside its storage; nullptr for any other
// global. Argument 0 must be the storage as a 1-D kTensor.
PickleRef rebuild_tensor(const std::string& global, const PickleRef& args, const std::string& origin);

}  // namespace medtrain::models::pretrained
