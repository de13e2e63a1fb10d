#pragma once
// User-facing model errors: unknown architecture, weights that do not fit,
// malformed weight files. The CLI prints the message as one line and exits 2.
#include <stdexcept>
#include <string>

namespace medtrain::models {

class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace medtrain::models
