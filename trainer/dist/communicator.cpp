#include "trainer/dist/communicator.h"

#include <ATen/ATen.h>

#include <vector>

namespace medtrain::dist {

at::Tensor allgather_rows(Communicator& comm, const at::Tensor& tensor) {
  // On the tensor's device: NCCL only moves CUDA tensors.
  auto rows = at::full({1}, tensor.size(0), tensor.options().dtype(at::kLong));
  auto all_rows = comm.allgather(rows);
  all_rows = all_rows.cpu();
  const int64_t most = all_rows.max().item<int64_t>();
  auto shape = tensor.sizes().vec();
  shape[0] = most;
  auto padded = at::zeros(shape, tensor.options());
  padded.narrow(0, 0, tensor.size(0)).copy_(tensor);
  auto gathered = comm.allgather(padded.contiguous());
  std::vector<at::Tensor> parts;
  for (int r = 0; r < comm.size(); ++r) {
    parts.push_back(gathered.narrow(0, r * most, all_rows[r].item<int64_t>()));
  }
  return at::cat(parts);
}

}  // namespace medtrain::dist
