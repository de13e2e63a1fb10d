#pragma once
// Helpers for the config tests: a private temp folder to write YAML files into,
// the line a snippet sits on (counted here, not by yaml-cpp), and the message
// of the ConfigError a call throws.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "trainer/config/config_loader.h"
#include "tests/common/temp_dir.h"

namespace medtrain::config::testing {

using TempDir = medtrain::testing::TempDir;

// 1-based number of the first line of `text` that contains `snippet`; 0 if none.
inline int line_of(const std::string& text, const std::string& snippet) {
  int line = 1;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string row =
        text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (row.find(snippet) != std::string::npos) return line;
    if (end == std::string::npos) break;
    start = end + 1;
    ++line;
  }
  return 0;
}

// "<file>:<line of snippet>", the location an error about that line must name.
inline std::string where(const std::filesystem::path& file, const std::string& text,
                         const std::string& snippet) {
  return file.string() + ":" + std::to_string(line_of(text, snippet));
}

// The message of the ConfigError `fn` throws; fails the test if it throws
// nothing or something else.
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a ConfigError, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected a ConfigError, nothing was thrown";
  return "";
}

// Success when `text` contains every one of `parts`; else says which is missing.
// (A plain-gtest stand-in for gmock's HasSubstr: the test targets link gtest only.)
inline ::testing::AssertionResult contains(const std::string& text,
                                           const std::vector<std::string>& parts) {
  for (const std::string& part : parts) {
    if (text.find(part) == std::string::npos) {
      return ::testing::AssertionFailure() << "message:\n  " << text << "\nlacks:\n  " << part;
    }
  }
  return ::testing::AssertionSuccess();
}

inline std::string load_error(const std::filesystem::path& file,
                              const std::vector<std::string>& overrides = {}) {
  return error_of([&] { load_config(file, overrides); });
}

}  // namespace medtrain::config::testing
