// encode_png/decode_png against PIL (png_reference.py), the independent codec:
// PIL must read our PNGs pixel for pixel, and we must read PIL's (every colour
// type and bit depth it writes) as png_codec.h documents.
#include "trainer/metrics/png_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/trainer/metrics/python_json.h"
#include "tests/trainer/metrics/test_util.h"

namespace medtrain::metrics {
namespace {

using testing::TempDir;

// A deterministic picture whose every pixel and channel differ.
RasterImage pattern(int64_t w, int64_t h, int channels) {
  RasterImage img(w, h, channels);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<uint8_t>((i * 37 + 11) % 256);
  return img;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<uint8_t> as_bytes(const nlohmann::json& list) {
  std::vector<uint8_t> out;
  for (const auto& v : list) out.push_back(static_cast<uint8_t>(v.get<int>()));
  return out;
}

TEST(PngCodec, PilReadsOursAndWeReadPils) {
  if (std::string(MEDTRAIN_PYTHON).empty()) GTEST_SKIP() << "configured without MEDTRAIN_PYTHON";
  TempDir tmp;
  const std::vector<std::pair<std::string, RasterImage>> ours = {
      {"ours_gray.png", pattern(13, 6, 1)}, {"ours_rgb.png", pattern(9, 11, 3)}, {"ours_rgba.png", pattern(5, 3, 4)},
      {"ours_one_pixel.png", pattern(1, 1, 3)}};
  for (const auto& [name, img] : ours) std::ofstream(tmp.path() / name, std::ios::binary) << encode_png(img);

  const auto got = testing::run_python_json("tests/trainer/metrics/png_reference.py", {tmp.str()}, tmp.path());
  ASSERT_TRUE(got.is_object());
  const char* modes[] = {"", "L", "", "RGB", "RGBA"};
  for (const auto& [name, img] : ours) {
    SCOPED_TRACE(name);
    const auto& d = got.at("decoded").at(name);
    EXPECT_EQ(d.at("mode"), modes[img.channels]);
    EXPECT_EQ(d.at("width"), img.width);
    EXPECT_EQ(d.at("height"), img.height);
    EXPECT_EQ(as_bytes(d.at("pixels")), img.pixels);
    // and our own decoder gives back what we encoded
    const RasterImage back = decode_png(encode_png(img));
    EXPECT_EQ(back.width, img.width);
    EXPECT_EQ(back.height, img.height);
    EXPECT_EQ(back.channels, img.channels);
    EXPECT_EQ(back.pixels, img.pixels);
  }

  const auto& written = got.at("written");
  EXPECT_EQ(written.size(), 8u) << written.dump();
  for (const auto& [name, want] : written.items()) {
    SCOPED_TRACE(name);
    const RasterImage img = decode_png(slurp(tmp.path() / "pil" / name), name);
    EXPECT_EQ(img.width, want.at("width").get<int64_t>());
    EXPECT_EQ(img.height, want.at("height").get<int64_t>());
    EXPECT_EQ(img.channels, want.at("channels").get<int>());
    EXPECT_EQ(img.pixels, as_bytes(want.at("pixels")));
  }
}

TEST(PngCodec, RefusesImagesItCannotEncode) {
  testing::expect_throw_with<std::invalid_argument>([] { encode_png(RasterImage(0, 0, 1)); }, "empty image (0x0)");
  testing::expect_throw_with<std::invalid_argument>([] { encode_png(RasterImage(4, 0, 3)); }, "empty image (4x0)");
  testing::expect_throw_with<std::invalid_argument>([] { encode_png(RasterImage(2, 2, 2)); },
                                                    "2 channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)");
  RasterImage short_buffer(4, 3, 3);
  short_buffer.pixels.pop_back();
  testing::expect_throw_with<std::invalid_argument>([&] { encode_png(short_buffer); },
                                                    "pixel buffer holds 35 bytes, 4x3x3 needs 36");
  RasterImage long_buffer(4, 3, 1);
  long_buffer.pixels.push_back(0);
  testing::expect_throw_with<std::invalid_argument>([&] { encode_png(long_buffer); }, "holds 13 bytes");
}

TEST(PngCodec, DamagedBytesNameWhatWasDecoded) {
  testing::expect_throw_with<std::runtime_error>([] { decode_png("", "tag train/batch"); },
                                                 "tag train/batch: not a PNG");
  testing::expect_throw_with<std::runtime_error>([] { decode_png("GIF89a....", "x.gif"); }, "x.gif: not a PNG");
  const std::string good = encode_png(pattern(16, 16, 3));
  testing::expect_throw_with<std::runtime_error>([&] { decode_png(good.substr(0, good.size() / 2), "cut.png"); },
                                                 "cut.png: bad PNG");
  std::string flipped = good;
  // 8 signature + 25 IHDR + 8 IDAT length and type: byte 45 is image data, whose CRC no longer matches
  flipped[45] = static_cast<char>(flipped[45] ^ 0x55);
  testing::expect_throw_with<std::runtime_error>([&] { decode_png(flipped, "flipped.png"); }, "flipped.png: bad PNG");
}

}  // namespace
}  // namespace medtrain::metrics
