// U-Net parity with MONAI's BasicUNet (tests/models/unet_reference.py): its
// state dicts (.pth and safetensors) load by name into unet2d / unet3d and
// eval-mode outputs agree to 1e-5 relative (fp32, CPU).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "models/model_error.h"
#include "models/pretrained/load_pretrained.h"
#include "models/registry.h"
#include "models/safetensors.h"
#include "models/state_dict.h"
#include "tests/common/temp_dir.h"
#include "tests/models/reference_io.h"

namespace fs = std::filesystem;
using namespace medtrain::models;

namespace {

const fs::path& reference_dir() {
  static medtrain::testing::TempDir dir("medtrain_unet_ref");
  static const bool made = [] {
    const std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR +
                            "/tests/models/unet_reference.py " + dir.str();
    return std::system(cmd.c_str()) == 0;
  }();
  if (!made) throw std::runtime_error("tests/models/unet_reference.py failed (is monai installed?)");
  return dir.path();
}

void expect_parity(const std::string& arch, int64_t classes, int64_t channels, const std::string& file) {
  const fs::path dir = reference_dir() / arch;
  auto model = create_model({arch, classes, channels});
  const auto report = pretrained::load_pretrained(*model, dir / file);
  EXPECT_EQ(report.loaded, state_dict(*model).size());
  EXPECT_LE(medtrain::testing::reference_error(*model, dir), 1e-5) << arch;
}

TEST(UNetParity, MonaiBasicUNet2dFromPth) { expect_parity("unet2d", 3, 1, "weights.pth"); }

TEST(UNetParity, MonaiBasicUNet3dFromSafetensors) { expect_parity("unet3d", 2, 2, "weights.safetensors"); }

TEST(UNet, ParameterCountsMatchMonai) {
  // sum(p.numel()) of monai BasicUNet(spatial_dims, in_channels=1, out_channels=2)
  EXPECT_EQ(parameter_count(*create_model({"unet2d", 2, 1})), 1978466);
  EXPECT_EQ(parameter_count(*create_model({"unet3d", 2, 1})), 5749410);
}

TEST(UNet, WrongInputRankIsNamed) {
  auto model = create_model({"unet3d", 2, 1});
  try {
    model->forward(torch::zeros({1, 1, 16, 16}));
    FAIL() << "a 4-D input reached a 3D U-Net";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("unet3d: expected a 5-D input [N, C, D, H, W], got 4-D"), std::string::npos)
        << e.what();
  }
}

}  // namespace
