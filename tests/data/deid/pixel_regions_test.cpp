// Fixed-region rules: which rules match a device and size, the shipped example
// file parses, and malformed files are refused with file:line and the key.
#include <gtest/gtest.h>

#include "data/data_error.h"
#include "data/deid/pixel_redact.h"
#include "data/deid/pixel_regions.h"

namespace medtrain::data::deid {
namespace {

constexpr const char* kRules = R"(rules:
  - id: any-size
    manufacturer: Acme Medical
    boxes: [[0, 0, 10, 5]]
  - id: model-and-size
    manufacturer: ACME MEDICAL
    model: Sono 5
    rows: 480
    columns: 640
    boxes: [[1, 2, 3, 4], [5, 6, 7, 8]]
)";

std::string error_of(const std::string& text) {
  try {
    RegionRules::parse(text, "r.yaml");
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST(PixelRegions, MatchingByManufacturerModelAndSize) {
  const RegionRules r = RegionRules::parse(kRules, "r.yaml");
  ASSERT_EQ(r.rules.size(), 2u);
  EXPECT_EQ(r.matching("acme medical ", "other", 10, 10).size(), 1u);  // case and trailing space folded
  const auto both = r.matching("Acme Medical", "SONO 5", 480, 640);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[1]->id, "model-and-size");
  EXPECT_EQ(both[1]->boxes.size(), 2u);
  EXPECT_EQ((both[1]->boxes[1]), (std::array<int, 4>{5, 6, 7, 8}));
  EXPECT_EQ(r.matching("Acme Medical", "Sono 5", 480, 641).size(), 1u);  // size differs
  EXPECT_TRUE(r.matching("Other Co", "Sono 5", 480, 640).empty());
}

TEST(PixelRegions, ShippedFileParses) {
  const RegionRules r = RegionRules::load(std::string(MEDTRAIN_SOURCE_DIR) + "/configs/deid/pixel_regions.yaml");
  ASSERT_GE(r.rules.size(), 3u);
  const auto test = r.matching("MEDTRAIN TEST DEVICE", "", 128, 160);
  ASSERT_EQ(test.size(), 1u);
  EXPECT_EQ(test[0]->id, "test-fixed-band");
}

TEST(PixelRegions, BadFilesNameLineAndKey) {
  EXPECT_NE(error_of("rules:\n  - id: x\n    manufacturer: A\n    boxes: [[0, 0, -1, 5]]\n").find("r.yaml:4"),
            std::string::npos);
  EXPECT_NE(error_of("rules:\n  - id: x\n    manufacturer: A\n    boxes: [[0, 0, 5]]\n").find("[x, y, width, height]"),
            std::string::npos);
  EXPECT_NE(error_of("rules:\n  - id: x\n    manufacturer: A\n    colour: red\n    boxes: [[0,0,1,1]]\n")
                .find("unknown key \"colour\""),
            std::string::npos);
  EXPECT_NE(error_of("rules:\n  - id: x\n    boxes: [[0,0,1,1]]\n").find("manufacturer is required"), std::string::npos);
  EXPECT_NE(error_of("rules: [\n").find("not YAML"), std::string::npos);
  EXPECT_NE(error_of("- a\n- b\n").find("\"rules\""), std::string::npos);
  EXPECT_TRUE(RegionRules::parse("", "r.yaml").rules.empty());
}

TEST(PixelRegions, GrowAndClip) {
  const auto out = grow_and_clip({{0, 0, 10, 10}, {95, 45, 10, 10}, {200, 200, 5, 5}}, 3, 50, 100);
  ASSERT_EQ(out.size(), 2u);  // the third lies outside the image
  EXPECT_EQ(out[0], (PixelBox{0, 0, 13, 13}));
  EXPECT_EQ(out[1], (PixelBox{92, 42, 8, 8}));
}

}  // namespace
}  // namespace medtrain::data::deid
