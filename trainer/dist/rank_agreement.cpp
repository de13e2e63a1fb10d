#include "trainer/dist/rank_agreement.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "trainer/user_error.h"

namespace medtrain::dist {

namespace {

int64_t fnv1a(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return static_cast<int64_t>(h);
}

std::string model_signature(const torch::nn::Module& model) {
  std::string sig;
  for (const auto& item : model.named_parameters()) {
    sig += fmt::format("p {} {} {};", item.key(), c10::toString(item.value().scalar_type()),
                       fmt::join(item.value().sizes(), "x"));
  }
  for (const auto& item : model.named_buffers()) {
    sig += fmt::format("b {} {} {};", item.key(), c10::toString(item.value().scalar_type()),
                       fmt::join(item.value().sizes(), "x"));
  }
  return sig;
}

void broadcast_tensor(Communicator& comm, at::Tensor t) {
  auto flat = t.contiguous();
  comm.broadcast(flat, 0);
  if (!flat.is_same(t)) t.copy_(flat);
}

}  // namespace

void check_ranks_agree(Communicator& comm, const torch::nn::Module& model, const std::string& config_yaml) {
  auto mine = at::tensor({fnv1a(model_signature(model)), fnv1a(config_yaml)}, at::kLong);
  const auto params = model.parameters();
  if (!params.empty()) mine = mine.to(params.front().device());  // NCCL moves CUDA tensors only
  auto all = comm.allgather(mine).view({comm.size(), 2}).cpu();
  for (int r = 1; r < comm.size(); ++r) {
    if (all[r][0].item<int64_t>() != all[0][0].item<int64_t>()) {
      throw UserError(fmt::format("dist: rank {}'s model has other parameter names or shapes than rank 0's; "
                                  "every rank must build the same model", r));
    }
    if (all[r][1].item<int64_t>() != all[0][1].item<int64_t>()) {
      throw UserError(fmt::format("dist: rank {} resolved another config than rank 0 (different -c file or --set?); "
                                  "every rank must run the same experiment", r));
    }
  }
}

void broadcast_model(Communicator& comm, torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) broadcast_tensor(comm, p);
  broadcast_buffers(comm, model);
}

void broadcast_buffers(Communicator& comm, torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& b : model.buffers()) broadcast_tensor(comm, b);
}

}  // namespace medtrain::dist
