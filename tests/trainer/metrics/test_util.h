#pragma once
// Helpers shared by the metrics tests: a self-deleting temp directory and an
// "expect this exception with this text in its message" check.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include "tests/common/temp_dir.h"

namespace medtrain::metrics::testing {

using TempDir = medtrain::testing::TempDir;

// Runs `fn`, expects an exception of type E whose what() contains `needle`.
template <typename E, typename Fn>
void expect_throw_with(Fn&& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected an exception mentioning \"" << needle << "\"";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message \"" << e.what() << "\" does not mention \"" << needle << "\"";
  }
}

}  // namespace medtrain::metrics::testing
