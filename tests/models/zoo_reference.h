#pragma once
// The files of zoo_reference.py for one case (a folder name of its CASES, or
// "bad"), made on first use in this process: ctest runs every test in its own
// process, so each test builds only the reference models it needs.
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>

#include "tests/common/temp_dir.h"

namespace medtrain::testing {

inline std::filesystem::path zoo_reference(const std::string& case_name) {
  static TempDir dir("medtrain_zoo_ref");
  static std::set<std::string> made;
  if (made.insert(case_name).second) {
    const std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR +
                            "/tests/models/zoo_reference.py " + dir.str() + " " + case_name;
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("reference failed: " + cmd);
  }
  return dir.path() / case_name;
}

}  // namespace medtrain::testing
