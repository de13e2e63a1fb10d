#pragma once
// Comparing tensors bit for bit (so NaN payloads and -0.0 count), for tests of
// anything that stores tensors: safetensors, checkpoints, resume.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace medtrain::testing {

inline std::string raw_bytes(const torch::Tensor& t) {
  torch::Tensor c = t.cpu().contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

inline std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// Same names in the same order, same dtypes, shapes and bytes.
inline void expect_bitwise_equal(const std::vector<std::pair<std::string, torch::Tensor>>& want,
                                 const std::vector<std::pair<std::string, torch::Tensor>>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(want[i].first);
    EXPECT_EQ(want[i].first, got[i].first);
    EXPECT_EQ(want[i].second.scalar_type(), got[i].second.scalar_type());
    EXPECT_EQ(want[i].second.sizes(), got[i].second.sizes());
    EXPECT_EQ(hex(raw_bytes(want[i].second)), hex(raw_bytes(got[i].second)));
  }
}

}  // namespace medtrain::testing
