#pragma once
// Runs text_metrics_reference.py (seqeval and sklearn) on a JSON of cases and
// returns its JSON answer. Shared by entity_metrics_test.cpp and f1_metrics_test.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/trainer/metrics/test_util.h"

namespace medtrain::metrics::testing {

// Empty when the configured Python can run; otherwise why not. The only reason a
// reference test may skip: a missing package (seqeval, sklearn) fails instead.
inline std::string python_missing() {
  const std::string python = MEDTRAIN_PYTHON;
  if (python.empty()) return "configured without MEDTRAIN_PYTHON (cmake -DMEDTRAIN_PYTHON=...)";
  if (::access(python.c_str(), X_OK) != 0) return "MEDTRAIN_PYTHON=" + python + " is not executable";
  return "";
}

#define MEDTRAIN_SKIP_WITHOUT_PYTHON()                                        \
  if (const std::string why = ::medtrain::metrics::testing::python_missing(); \
      !why.empty())                                                           \
  GTEST_SKIP() << why

// The reference's answer for `cases`; a failing script throws with its stderr.
inline nlohmann::json run_text_reference(const nlohmann::json& cases) {
  TempDir dir("medtrain_text_metrics");
  const auto in = dir.path() / "cases.json";
  const auto err = dir.path() / "stderr.txt";
  std::ofstream(in) << cases.dump();
  const std::string cmd = std::string("'") + MEDTRAIN_PYTHON + "' '" + MEDTRAIN_SOURCE_DIR +
                          "/tests/trainer/metrics/text_metrics_reference.py' '" + in.string() +
                          "' 2>'" + err.string() + "'";
  std::FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + cmd);
  std::string out;
  std::array<char, 4096> buf{};
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) out.append(buf.data(), n);
  const int status = pclose(pipe);
  if (status != 0) {
    std::ifstream e(err);
    throw std::runtime_error(cmd + " exited with " + std::to_string(status) + "\n" +
                             std::string(std::istreambuf_iterator<char>(e), {}));
  }
  return nlohmann::json::parse(out);
}

// A reference number: null stands for NaN.
inline double ref_value(const nlohmann::json& v) {
  return v.is_null() ? std::nan("") : v.get<double>();
}

// Equal within rounding (both NaN counts as equal).
inline ::testing::AssertionResult same_score(double got, double want) {
  if (std::isnan(want) && std::isnan(got)) return ::testing::AssertionSuccess();
  if (!std::isnan(got) && !std::isnan(want) && std::abs(got - want) <= 1e-12) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << got << ", reference " << want;
}

}  // namespace medtrain::metrics::testing
