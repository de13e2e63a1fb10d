#pragma once
// How many nodes of an output's autograd graph have a name containing `part`
// (e.g. "LayerNormFn": the C++ autograd Function of kernels/layer_norm.cpp),
// each node counted once: a test's proof that a path really ran.
#include <torch/torch.h>

#include <string>
#include <unordered_set>
#include <vector>

namespace medtrain::testing {

inline int count_autograd_nodes(const torch::Tensor& output, const std::string& part) {
  std::vector<torch::autograd::Node*> todo{output.grad_fn().get()};
  std::unordered_set<torch::autograd::Node*> seen;
  int count = 0;
  while (!todo.empty()) {
    auto* node = todo.back();
    todo.pop_back();
    if (node == nullptr || !seen.insert(node).second) continue;
    if (node->name().find(part) != std::string::npos) ++count;
    for (const auto& edge : node->next_edges()) todo.push_back(edge.function.get());
  }
  return count;
}

}  // namespace medtrain::testing
