// model.pretrained with files that do not fit: every case is one ModelError
// that names the file and says what is wrong, never a crash or a silent load.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "models/model_error.h"
#include "models/pretrained/load_pretrained.h"
#include "models/registry.h"
#include "models/safetensors.h"
#include "models/state_dict.h"
#include "tests/common/temp_dir.h"
#include "tests/models/zoo_reference.h"

namespace fs = std::filesystem;
using namespace medtrain::models;
using medtrain::models::pretrained::apply_pretrained;
using medtrain::models::pretrained::load_pretrained;
using medtrain::models::pretrained::PretrainedOptions;

namespace {

// Files from zoo_reference.py: its "bad" set, or a case folder.
fs::path bad(const std::string& name) { return medtrain::testing::zoo_reference("bad") / name; }

const medtrain::testing::TempDir& scratch() {
  static medtrain::testing::TempDir dir("medtrain_pretrained_scratch");
  return dir;
}

// Loads `file` into `model` and returns the error message ("" if it loaded).
std::string error_of(const std::string& arch, int64_t classes, int64_t channels, const fs::path& file,
                     const PretrainedOptions& options = {}) {
  auto model = create_model({arch, classes, channels});
  try {
    load_pretrained(*model, file, options);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "expected \"" << (needle) << "\" in: " << (haystack)

TEST(PretrainedErrors, AnotherArchitectureListsEveryDifference) {
  // resnet18 weights into resnet34: layers 1.2, 2.2, 2.3, ... are missing.
  const fs::path r18 = bad("resnet18_c2.pth");
  std::string msg = error_of("resnet34", 2, 3, r18);
  EXPECT_HAS(msg, "PyTorch zip " + r18.string() + " does not fit the model");
  EXPECT_HAS(msg, "missing: layer1.2.conv1.weight");
  EXPECT_HAS(msg, "in all)");  // more than the shown ones: the count is given
  // densenet121 weights into resnet18: unexpected and missing in one message.
  const fs::path dn = medtrain::testing::zoo_reference("densenet121_c1_pth") / "weights.pth";
  msg = error_of("resnet18", 3, 1, dn);
  EXPECT_HAS(msg, "missing: conv1.weight");
  EXPECT_HAS(msg, "unexpected: ");
  EXPECT_HAS(msg, "features.conv0.weight");
  // Same family, other head size: a shape mismatch naming both shapes.
  msg = error_of("resnet18", 7, 3, r18);
  EXPECT_HAS(msg, "shape mismatch: fc.weight [2, 512] vs model [7, 512], fc.bias [2] vs model [7]");
}

TEST(PretrainedErrors, SkipKeepsANewHead) {
  const fs::path r18 = bad("resnet18_c2.pth");
  auto reference = create_model({"resnet18", 2, 3});
  load_pretrained(*reference, r18);
  for (const std::string& skip : {"fc", "fc."}) {
    auto model = create_model({"resnet18", 7, 3});
    const torch::Tensor head_before = model->named_parameters()["fc.weight"].clone();
    const auto report = load_pretrained(*model, r18, {{skip}});
    EXPECT_EQ(report.skipped, 2u);
    EXPECT_TRUE(torch::equal(model->named_parameters()["fc.weight"], head_before)) << skip;
    EXPECT_TRUE(torch::equal(model->named_parameters()["layer4.1.conv2.weight"],
                             reference->named_parameters()["layer4.1.conv2.weight"]));
  }
  // "f" is not a name prefix of "fc.weight": nothing skipped, and a note says so.
  auto model = create_model({"resnet18", 2, 3});
  const auto report = load_pretrained(*model, r18, {{"f"}});
  EXPECT_EQ(report.skipped, 0u);
  ASSERT_FALSE(report.notes.empty());
  EXPECT_HAS(report.notes.back(), "skip entry \"f\" matches no tensor");
}

TEST(PretrainedErrors, MissingFileAndDirectory) {
  const fs::path missing = scratch().path() / "nope.pth";
  EXPECT_HAS(error_of("resnet18", 2, 1, missing), "cannot open pretrained weights " + missing.string());
  EXPECT_HAS(error_of("resnet18", 2, 1, scratch().path()), "is a directory");
}

TEST(PretrainedErrors, PyTorchFilesThatAreNotStateDictsOfTensors) {
  const fs::path cut = bad("legacy_truncated.pth");
  EXPECT_HAS(error_of("resnet18", 2, 3, cut), "PyTorch file " + cut.string() + " (legacy format): storage ");
  EXPECT_HAS(error_of("resnet18", 2, 3, cut), "(truncated?)");
  const fs::path truncated = bad("truncated.pth");
  EXPECT_HAS(error_of("resnet18", 2, 3, truncated),
             "PyTorch file " + truncated.string() + ": not a readable PyTorch zip file");
  // Arbitrary pickled objects are never constructed: they are named, not run.
  const std::string msg = error_of("resnet18", 2, 3, bad("objects.pth"));
  EXPECT_HAS(msg, "not a state dict of tensors: \"obj\" (an object), \"n\" (int)");
}

// The same state dict in both torch.save formats loads to the same weights.
TEST(PretrainedErrors, LegacyFormatLoadsLikeZip) {
  auto zip = create_model({"resnet18", 2, 3});
  auto legacy = create_model({"resnet18", 2, 3});
  load_pretrained(*zip, bad("resnet18_c2.pth"));
  EXPECT_EQ(load_pretrained(*legacy, bad("legacy.pth")).format, "PyTorch legacy");
  const auto expected = state_dict(*zip);
  const auto got = state_dict(*legacy);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(torch::equal(got[i].second, expected[i].second)) << got[i].first;
}

TEST(PretrainedErrors, DtypeTheModelCannotTake) {
  EXPECT_HAS(error_of("resnet18", 2, 3, bad("complex.pth")),
             "1 tensors have a dtype the model cannot take: conv1.weight (ComplexFloat -> Float)");
  auto source = create_model({"resnet18", 2, 1});
  NamedTensors tensors = state_dict(*source);
  for (auto& [k, v] : tensors) {
    if (k == "conv1.weight") v = v.to(torch::kInt);
    if (k == "bn1.num_batches_tracked") v = v.to(torch::kFloat);
  }
  auto model = create_model({"resnet18", 2, 1});
  try {
    apply_pretrained(*model, tensors, "in-memory");
    FAIL() << "int weights loaded into a float model";
  } catch (const ModelError& e) {
    EXPECT_HAS(std::string(e.what()), "in-memory: 2 tensors have a dtype the model cannot take");
    EXPECT_HAS(std::string(e.what()), "conv1.weight (Int -> Float)");
    EXPECT_HAS(std::string(e.what()), "bn1.num_batches_tracked (Float -> Long)");
  }
}

TEST(PretrainedErrors, HalfPrecisionFileIsCastWithANote) {
  auto full = create_model({"resnet18", 2, 3});
  load_pretrained(*full, bad("resnet18_c2.pth"));
  auto half = create_model({"resnet18", 2, 3});
  const auto report = load_pretrained(*half, bad("resnet18_c2_half.pth"));
  std::map<std::string, torch::Tensor> got;
  for (const auto& [k, v] : state_dict(*half)) got[k] = v;
  int floating = 0;
  for (const auto& [k, v] : state_dict(*full)) {
    floating += v.is_floating_point();
    const torch::Tensor expected = v.is_floating_point() ? v.to(torch::kHalf).to(torch::kFloat) : v;
    EXPECT_TRUE(torch::equal(got.at(k), expected)) << k;
  }
  ASSERT_FALSE(report.notes.empty());
  EXPECT_HAS(report.notes.back(), "converted " + std::to_string(floating) + " tensors Half -> Float");
}

// The safetensors reader's checks, reached through model.pretrained: the
// message names the file and the problem.
std::string u64_le(uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out;
}

std::string with_header(const std::string& header, const std::string& data) {
  return u64_le(header.size()) + header + data;
}

TEST(PretrainedErrors, MalformedSafetensorsNameFileAndProblem) {
  const auto& dir = scratch();
  std::string good = safetensors_bytes(state_dict(*create_model({"resnet18", 2, 1})));
  const struct {
    const char* name;
    std::string bytes;
    const char* problem;
  } cases[] = {
      {"truncated", good.substr(0, good.size() - 100), "runs past the end of the data buffer"},
      {"header_past_eof", u64_le(4096) + "{}", "header length 4096 runs past the end of the file"},
      {"overlap",
       with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                   std::string(12, '\0')),
       "overlap tensor \"a\""},
      {"out_of_range", with_header(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0')),
       "data_offsets [0, 16] runs past the end of the data buffer (8 bytes"},
      {"bad_dtype", with_header(R"({"a":{"dtype":"F8_E5M2","shape":[1],"data_offsets":[0,1]}})", "x"),
       "unsupported dtype \"F8_E5M2\""},
  };
  for (const auto& c : cases) {
    const fs::path file = dir.write(std::string(c.name) + ".safetensors", c.bytes);
    const std::string msg = error_of("resnet18", 2, 1, file);
    EXPECT_HAS(msg, "safetensors file " + file.string());
    EXPECT_HAS(msg, c.problem);
  }
}

}  // namespace
