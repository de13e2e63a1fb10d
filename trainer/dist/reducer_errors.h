#pragma once
// What the gradient reducer says when it is used wrongly. Modelled on c10d's
// Reducer: each message names the parameter, the likely cause and what to do,
// on one line (the CLI prints it as the run's error).
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace medtrain::dist {

// The reducer's contract was broken by the calling code (not by the user's
// config): the training loop, a model's forward, or code touching .grad.
class ReducerMisuse : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace reducer_errors {

std::string ready_twice(const std::string& param);
std::string finish_without_sync();
std::string finish_without_gradients();
// `what` says what p.grad() is now ("undefined", "another tensor").
std::string gradient_replaced(const std::string& param, size_t bucket, const std::string& what);
std::string parameter_replaced(const std::string& param, const std::string& how);
std::string parameter_count_changed(size_t built_for, size_t now);
// A UserError's message: fixable through dist.find_unused_parameters.
std::string unused_parameters(const std::vector<std::string>& params);

}  // namespace reducer_errors
}  // namespace medtrain::dist
