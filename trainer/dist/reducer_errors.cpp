#include "trainer/dist/reducer_errors.h"

#include <fmt/format.h>

namespace medtrain::dist::reducer_errors {

namespace {

constexpr const char* kPrefix = "gradient reducer: ";

// The first few names: a language model can leave hundreds unused.
std::string some_names(const std::vector<std::string>& names, size_t shown = 8) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < shown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += fmt::format(" and {} more", names.size() - shown);
  return out;
}

}  // namespace

std::string ready_twice(const std::string& param) {
  return fmt::format(
      "{}parameter '{}' received its gradient twice in one synced backward. Likely causes: backward() ran "
      "more than once after begin_backward(true) (one backward per loss instead of one on their sum, "
      "retain_graph), or the parameter is used inside a re-entrant (checkpointed) region. Sum the losses and "
      "call backward once per micro-step, with begin_backward() before each",
      kPrefix, param);
}

std::string finish_without_sync() {
  return fmt::format(
      "{}finish() without a synced backward: begin_backward(true) was not called before the last "
      "micro-step's backward (or finish() ran twice for one step); no gradient was reduced",
      kPrefix);
}

std::string finish_without_gradients() {
  return fmt::format(
      "{}finish() after begin_backward(true), but no parameter received a gradient since: backward() did "
      "not run, ran before begin_backward(true), or the loss does not depend on any reduced parameter",
      kPrefix);
}

std::string gradient_replaced(const std::string& param, size_t bucket, const std::string& what) {
  return fmt::format(
      "{}the gradient of parameter '{}' is no longer its view into bucket {} (it is {}), so the all-reduce "
      "would not reach it. Something replaced it: zero_grad with set_to_none (model or optimizer), an "
      "assignment to .grad / mutable_grad(), or set_data on the parameter. Under data parallelism zero "
      "gradients through the reducer (DataParallel::zero_grad), never drop or reassign them",
      kPrefix, param, bucket, what);
}

std::string parameter_replaced(const std::string& param, const std::string& how) {
  return fmt::format(
      "{}parameter '{}' changed after the reducer was built ({}); its gradient would not be reduced. Finish "
      "building the model (weights, channels_last, freezing) before data-parallel setup, and load weights "
      "with copy_ into the existing parameters instead of replacing them",
      kPrefix, param, how);
}

std::string parameter_count_changed(size_t built_for, size_t now) {
  return fmt::format(
      "{}the model has {} trainable parameters, the reducer was built for {}: parameters were added or "
      "removed, or requires_grad changed after data-parallel setup. Freeze or unfreeze before setup",
      kPrefix, now, built_for);
}

std::string unused_parameters(const std::vector<std::string>& params) {
  return fmt::format(
      "dist: {} parameter{} received no gradient in this step's backward ({}): they were not used in forward "
      "or do not reach the loss. Set dist.find_unused_parameters: true to reduce them as zeros (like DDP's "
      "find_unused_parameters), or freeze them if they are never meant to train",
      params.size(), params.size() == 1 ? "" : "s", some_names(params));
}

}  // namespace medtrain::dist::reducer_errors
