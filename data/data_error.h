#pragma once
// User-facing data errors: a missing file, a row that names nothing, a file that
// is not DICOM. The message says what and where (path, manifest line); the CLI
// prints it as one line and exits 2.
#include <stdexcept>
#include <string>

namespace medtrain::data {

class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace medtrain::data
