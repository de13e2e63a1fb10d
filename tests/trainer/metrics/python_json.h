#pragma once
// Runs a Python reference script of tests/ (TensorBoard's reader, PIL) and
// parses what it prints as JSON. A failing script, or output that is not
// JSON, fails the calling test with the script's stderr and returns null.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace medtrain::metrics::testing {

// `script`: relative to the source tree; `args` are quoted for the shell.
// `scratch`: a folder where stderr is kept meanwhile (a uniquely named file,
// removed after).
inline nlohmann::json run_python_json(const std::string& script, const std::vector<std::string>& args,
                                      const std::filesystem::path& scratch) {
  static int calls = 0;  // unique within the process; the pid across processes
  const auto err = scratch / ("python_json." + std::to_string(::getpid()) + "." + std::to_string(calls++) + ".stderr");
  std::string cmd = std::string("'") + MEDTRAIN_PYTHON + "' '" + MEDTRAIN_SOURCE_DIR + "/" + script + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>'" + err.string() + "'";
  std::FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed: " << cmd;
    return nullptr;
  }
  std::string out;
  std::array<char, 4096> buf{};
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) out.append(buf.data(), n);
  const int status = pclose(pipe);
  std::ifstream in(err, std::ios::binary);
  const std::string stderr_text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::filesystem::remove(err);
  if (status != 0) {
    ADD_FAILURE() << cmd << " exited with " << status << "\n" << stderr_text;
    return nullptr;
  }
  try {
    return nlohmann::json::parse(out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "bad JSON from " << script << ": " << e.what() << "\n" << out << "\n" << stderr_text;
    return nullptr;
  }
}

}  // namespace medtrain::metrics::testing
