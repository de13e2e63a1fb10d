// Round trips of our safetensors writer and reader, and parity with the pip
// `safetensors` package in both directions (tests/models/safetensors_reference.py).
#include "models/safetensors.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <torch/torch.h>

#include "models/model_error.h"
#include "tests/common/temp_dir.h"
#include "tests/common/tensor_bytes.h"

namespace fs = std::filesystem;
using medtrain::models::load_safetensors;
using medtrain::models::ModelError;
using medtrain::models::NamedTensors;
using medtrain::models::parse_safetensors;
using medtrain::models::safetensors_bytes;
using medtrain::models::save_safetensors;

namespace {

using medtrain::testing::hex;
using medtrain::testing::raw_bytes;

std::string dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kDouble: return "F64";
    case torch::kFloat: return "F32";
    case torch::kHalf: return "F16";
    case torch::kBFloat16: return "BF16";
    case torch::kLong: return "I64";
    case torch::kInt: return "I32";
    case torch::kShort: return "I16";
    case torch::kChar: return "I8";
    case torch::kByte: return "U8";
    case torch::kBool: return "BOOL";
    default: return "?";
  }
}

// Every dtype, odd byte counts between wider types (so data is not aligned),
// 0-d, empty, special floats and a non-contiguous source.
NamedTensors sample_tensors() {
  torch::manual_seed(7);
  torch::Tensor f32 = torch::randn({3, 4});
  f32[0][0] = std::numeric_limits<float>::quiet_NaN();
  f32[0][1] = std::numeric_limits<float>::infinity();
  f32[0][2] = -0.0f;
  return {
      {"u8", torch::randint(0, 256, {3}, torch::kByte)},
      {"f64", torch::randn({2, 3}, torch::kDouble)},
      {"f16", torch::randn({5}).to(torch::kHalf)},
      {"f32", f32},
      {"bf16", torch::randn({3, 1, 2}).to(torch::kBFloat16)},
      {"i64", torch::tensor({std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{42},
                             std::numeric_limits<int64_t>::max()})},
      {"i32", torch::randint(-100000, 100000, {2, 2}, torch::kInt)},
      {"i16", torch::randint(-30000, 30000, {3}, torch::kShort)},
      {"i8", torch::randint(-128, 128, {7}, torch::kChar)},
      {"mask", torch::rand({9}) > 0.5},
      {"scalar", torch::tensor(2.5, torch::kDouble).reshape({})},
      {"empty", torch::zeros({0, 3})},
      {"empty_bf16", torch::zeros({4, 0}, torch::kBFloat16)},
      {"transposed", torch::arange(6, torch::kFloat).reshape({2, 3}).t()},
  };
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    temp_ = std::make_unique<medtrain::testing::TempDir>("medtrain_safetensors_" + std::string(info->name()));
    dir_ = temp_->path();
  }
  void TearDown() override { temp_.reset(); }

  int run_reference(const std::string& command, const fs::path& file, const fs::path& json) {
    const std::string cmd = std::string(MEDTRAIN_PYTHON) + " '" + MEDTRAIN_SOURCE_DIR +
                            "/tests/models/safetensors_reference.py' " + command + " '" +
                            file.string() + "' '" + json.string() + "'";
    return std::system(cmd.c_str());
  }

  std::unique_ptr<medtrain::testing::TempDir> temp_;
  fs::path dir_;
};

TEST_F(SafetensorsTest, RoundTripEveryDtypeWithMetadata) {
  const NamedTensors tensors = sample_tensors();
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"arch", "resnet18 \xE2\x9C\x93"}};
  const fs::path file = dir_ / "t.safetensors";
  save_safetensors(file, tensors, metadata);
  const auto loaded = load_safetensors(file);
  medtrain::testing::expect_bitwise_equal(tensors, loaded.tensors);  // also proves the order is kept
  EXPECT_EQ(loaded.metadata, metadata);
  EXPECT_TRUE(loaded.tensors[0].second.is_contiguous());
}

TEST_F(SafetensorsTest, HeaderIsPaddedToEightBytesAndDataIsContiguous) {
  const NamedTensors tensors = {{"a", torch::ones({3}, torch::kByte)}, {"bb", torch::ones({2})}};
  const std::string bytes = safetensors_bytes(tensors);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + n + 3 + 8);  // no holes, no trailing bytes
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.find_last_not_of(' ') + 1, header.rfind('}') + 1);
  EXPECT_EQ(header.front(), '{');
}

TEST_F(SafetensorsTest, EmptyFileAndMetadataOnly) {
  const auto none = parse_safetensors(safetensors_bytes({}), "mem");
  EXPECT_TRUE(none.tensors.empty());
  EXPECT_TRUE(none.metadata.empty());
  const auto meta = parse_safetensors(safetensors_bytes({}, {{"k", "v"}}), "mem");
  EXPECT_EQ(meta.metadata.at("k"), "v");
}

TEST_F(SafetensorsTest, ReturnedTensorsOwnTheirMemory) {
  std::string bytes = safetensors_bytes({{"x", torch::ones({4})}});
  const auto file = parse_safetensors(bytes, "mem");
  std::fill(bytes.begin(), bytes.end(), '\xff');
  bytes.clear();
  bytes.shrink_to_fit();
  EXPECT_TRUE(torch::equal(file.tensors[0].second, torch::ones({4})));
}

TEST_F(SafetensorsTest, CudaTensorsAreCopiedToCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const torch::Tensor t = torch::randn({3, 3});
  const auto file = parse_safetensors(safetensors_bytes({{"x", t.cuda()}}), "mem");
  medtrain::testing::expect_bitwise_equal({{"x", t}}, file.tensors);
}

TEST_F(SafetensorsTest, WriterRejectsDuplicatesUnsupportedDtypesAndReservedNames) {
  const auto expect_error = [](const NamedTensors& t, const std::string& part) {
    try {
      safetensors_bytes(t);
      ADD_FAILURE() << "no error for " << part;
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect_error({{"w", torch::ones({1})}, {"w", torch::ones({2})}}, "tensor name \"w\" appears twice");
  expect_error({{"c", torch::ones({1}, torch::kComplexFloat)}}, "tensor \"c\" has dtype");
  expect_error({{"__metadata__", torch::ones({1})}}, "reserved");
  expect_error({{"u", torch::Tensor()}}, "tensor \"u\" is undefined");
  try {
    save_safetensors(dir_ / "dup.safetensors", {{"w", torch::ones({1})}, {"w", torch::ones({1})}});
    ADD_FAILURE() << "no error";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("dup.safetensors"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ / "dup.safetensors"));
}

// Ours writes, Hugging Face's implementation reads and compares.
TEST_F(SafetensorsTest, ReferenceImplementationReadsOurFiles) {
  if (std::string(MEDTRAIN_PYTHON).empty()) GTEST_SKIP() << "configured without MEDTRAIN_PYTHON";
  const NamedTensors tensors = sample_tensors();
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "caf\xC3\xA9"}};
  const fs::path file = dir_ / "ours.safetensors";
  save_safetensors(file, tensors, metadata);
  nlohmann::json expected = {{"metadata", metadata}, {"tensors", nlohmann::json::array()}};
  for (const auto& [name, t] : tensors) {
    expected["tensors"].push_back({{"name", name},
                                   {"dtype", dtype_name(t.scalar_type())},
                                   {"shape", t.sizes().vec()},
                                   {"hex", hex(raw_bytes(t))}});
  }
  const fs::path json = dir_ / "expected.json";
  std::ofstream(json) << expected.dump();
  EXPECT_EQ(run_reference("check", file, json), 0) << "safetensors (pip) disagrees with our file";
}

// Hugging Face's implementation writes, ours reads; the expected values come
// from the Python side.
TEST_F(SafetensorsTest, WeReadReferenceFiles) {
  if (std::string(MEDTRAIN_PYTHON).empty()) GTEST_SKIP() << "configured without MEDTRAIN_PYTHON";
  const fs::path file = dir_ / "theirs.safetensors";
  const fs::path json = dir_ / "expected.json";
  ASSERT_EQ(run_reference("write", file, json), 0);
  const auto loaded = load_safetensors(file);
  std::ifstream in(json);
  const nlohmann::json expected = nlohmann::json::parse(in);
  using StringMap = std::map<std::string, std::string>;
  EXPECT_EQ(loaded.metadata, expected["metadata"].get<StringMap>());
  ASSERT_EQ(loaded.tensors.size(), expected["tensors"].size());
  std::map<std::string, torch::Tensor> by_name(loaded.tensors.begin(), loaded.tensors.end());
  for (const auto& want : expected["tensors"]) {
    const std::string name = want["name"];
    SCOPED_TRACE(name);
    ASSERT_EQ(by_name.count(name), 1u);
    const torch::Tensor& got = by_name[name];
    EXPECT_EQ(dtype_name(got.scalar_type()), want["dtype"].get<std::string>());
    EXPECT_EQ(got.sizes().vec(), want["shape"].get<std::vector<int64_t>>());
    EXPECT_EQ(hex(raw_bytes(got)), want["hex"].get<std::string>());
  }
}

}  // namespace
