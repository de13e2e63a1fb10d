#pragma once
// Word boxes from an 8-bit grey image, by Tesseract (C++ API, LSTM engine,
// English data, page segmentation mode 11: sparse text, which suits overlays
// scattered over an image). Not thread-safe: one OcrEngine per thread
// (TessBaseAPI instances must not be shared); ocr_engine_for_this_thread() keeps
// one per worker. Tesseract's OpenMP is limited to one thread per engine (Note
// [Tesseract's OpenMP] in pixel_ocr.cpp) so that it does not oversubscribe the
// deid workers.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/deid/pixel_phi_match.h"

namespace tesseract {
class TessBaseAPI;
}

namespace medtrain::data::deid {

// An 8-bit grey image, row-major, 0 = black.
struct GreyImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;
};

class OcrEngine {
 public:
  // Throws DataError naming the Debian packages when Tesseract or its English
  // data cannot be loaded.
  OcrEngine();
  ~OcrEngine();
  OcrEngine(const OcrEngine&) = delete;
  OcrEngine& operator=(const OcrEngine&) = delete;

  // Words of `image` in its own pixel coordinates. Images narrower than
  // kOcrMinWidth are upscaled first (small overlay fonts), by up to max_scale;
  // images with a side above kOcrTileSide are read in overlapping tiles at
  // native scale (never downscaled: that would lose small text).
  std::vector<OcrWord> read(const GreyImage& image, int max_scale = 3);

 private:
  std::unique_ptr<tesseract::TessBaseAPI> api_;
};

inline constexpr int kOcrMinWidth = 1000;
inline constexpr int kOcrTileSide = 4096;

// Fails early (DataError naming tesseract-ocr-eng / libtesseract5) when no engine
// can start; call once at run start, before any output is written.
void check_ocr_available();

// This thread's engine, created on first use.
OcrEngine& ocr_engine_for_this_thread();

}  // namespace medtrain::data::deid
