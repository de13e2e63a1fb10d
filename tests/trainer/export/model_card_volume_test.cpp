// model.yaml's volume keys for whole-volume inference: the training spacing
// and ROI round-trip, a card written before them reads as "resized to depth"
// with the whole depth x S x S as its ROI, and bad values name the key.
#include <gtest/gtest.h>

#include <string>

#include "trainer/export/model_card.h"
#include "trainer/user_error.h"

namespace medtrain::exporter {
namespace {

ModelCard volume_card() {
  ModelCard c;
  c.architecture = "unet3d";
  c.task = "segmentation";
  c.num_classes = 2;
  c.labels = {"background", "lesion"};
  c.preprocessing.depth = 32;
  c.preprocessing.image_size = 96;
  c.preprocessing.slice_spacing = 1.5;
  c.preprocessing.pixel_spacing = 0.75;
  c.preprocessing.roi = {16, 48, 48};
  c.config_sha256 = std::string(64, 'a');
  return c;
}

std::string error_of(const std::string& yaml) {
  try {
    parse_model_card(yaml, "v/model.yaml");
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(ModelCardVolume, SpacingAndRoiRoundTrip) {
  const ModelCard r = parse_model_card(model_card_yaml(volume_card()), "m.yaml");
  EXPECT_TRUE(r.preprocessing.has_spacing());
  EXPECT_EQ(r.preprocessing.slice_spacing, 1.5);
  EXPECT_EQ(r.preprocessing.pixel_spacing, 0.75);
  EXPECT_EQ(r.preprocessing.roi, (std::array<int64_t, 3>{16, 48, 48}));
}

TEST(ModelCardVolume, OlderCardsReadAsResizedWithTheWholeVolumeAsRoi) {
  ModelCard c = volume_card();
  c.preprocessing.slice_spacing = c.preprocessing.pixel_spacing = 0;
  std::string yaml = model_card_yaml(c);
  const auto at = yaml.find("\n  roi:");
  ASSERT_NE(at, std::string::npos) << yaml;
  yaml.erase(at, yaml.find('\n', at + 1) - at);
  ASSERT_EQ(yaml.find("spacing"), std::string::npos) << yaml;
  const ModelCard r = parse_model_card(yaml, "m.yaml");
  EXPECT_FALSE(r.preprocessing.has_spacing());
  EXPECT_EQ(r.preprocessing.roi, (std::array<int64_t, 3>{32, 96, 96}));
}

TEST(ModelCardVolume, BadValuesNameTheKey) {
  ModelCard c = volume_card();
  c.preprocessing.roi = {64, 48, 48};  // deeper than depth 32
  EXPECT_NE(error_of(model_card_yaml(c)).find("preprocessing.roi"), std::string::npos);
  std::string half = model_card_yaml(volume_card());  // slice_spacing without pixel_spacing
  const auto at = half.find("\n  pixel_spacing:");
  ASSERT_NE(at, std::string::npos) << half;
  half.erase(at, half.find('\n', at + 1) - at);
  EXPECT_NE(error_of(half).find("come together"), std::string::npos) << error_of(half);
  c = volume_card();
  c.preprocessing.depth = 0;  // a 2D card with volume keys
  c.preprocessing.roi = {0, 0, 0};
  EXPECT_NE(error_of(model_card_yaml(c)).find("2D bundle"), std::string::npos);
  std::string yaml = model_card_yaml(volume_card());
  yaml.replace(yaml.find("[16, 48, 48]"), 12, "[16, 48]");
  EXPECT_NE(error_of(yaml).find("[depth, rows, cols]"), std::string::npos) << error_of(yaml);
}

}  // namespace
}  // namespace medtrain::exporter
