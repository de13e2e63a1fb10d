#include "data/deid/pixel_redact.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "data/data_error.h"

namespace medtrain::data::deid {
namespace {

// The whole word that displays darkest (see the header).
uint32_t black_word(const PixelLayout& l) {
  const int shift = l.high_bit + 1 - l.bits_stored;
  const uint32_t mask = static_cast<uint32_t>((uint64_t{1} << l.bits_stored) - 1);
  const uint32_t lowest = l.is_signed ? (uint32_t{1} << (l.bits_stored - 1)) : 0;  // two's complement minimum
  const uint32_t highest = l.is_signed ? lowest - 1 : mask;
  const bool want_high = l.invert != (l.slope < 0);
  return ((want_high ? highest : lowest) & mask) << shift;
}

template <typename T>
void fill_mono(T* frame, const PixelLayout& l, const PixelBox& b, T value) {
  for (int y = b[1]; y < b[1] + b[3]; ++y) std::fill_n(frame + y * l.cols + b[0], b[2], value);
}

void fill_colour(uint8_t* frame, const PixelLayout& l, const PixelBox& b) {
  const bool ybr = l.colour == ColourModel::kYbrFull;
  const uint8_t value[3] = {0, static_cast<uint8_t>(ybr ? 128 : 0), static_cast<uint8_t>(ybr ? 128 : 0)};
  const int64_t plane = l.rows * l.cols;
  for (int y = b[1]; y < b[1] + b[3]; ++y) {
    for (int x = b[0]; x < b[0] + b[2]; ++x) {
      const int64_t p = y * l.cols + x;
      for (int k = 0; k < 3; ++k) (l.planar == 1 ? frame[k * plane + p] : frame[p * 3 + k]) = value[k];
    }
  }
}

// YBR_FULL_422, interleaved: Y0 Y1 Cb Cr per pair of pixels (PS3.5 8.2.1).
void fill_ybr422(uint8_t* frame, const PixelLayout& l, const PixelBox& b) {
  for (int y = b[1]; y < b[1] + b[3]; ++y) {
    for (int x = b[0]; x < b[0] + b[2]; ++x) {
      const int64_t p = y * l.cols + x;
      uint8_t* pair = frame + (p / 2) * 4;
      pair[p % 2] = 0;
      pair[2] = pair[3] = 128;
    }
  }
}

}  // namespace

std::vector<PixelBox> grow_and_clip(const std::vector<PixelBox>& boxes, int margin, int64_t rows, int64_t cols) {
  std::vector<PixelBox> out;
  for (const auto& b : boxes) {
    const int64_t x0 = std::max<int64_t>(0, int64_t{b[0]} - margin), y0 = std::max<int64_t>(0, int64_t{b[1]} - margin);
    const int64_t x1 = std::min<int64_t>(cols, int64_t{b[0]} + b[2] + margin);
    const int64_t y1 = std::min<int64_t>(rows, int64_t{b[1]} + b[3] + margin);
    if (x1 > x0 && y1 > y0) {
      out.push_back({static_cast<int>(x0), static_cast<int>(y0), static_cast<int>(x1 - x0), static_cast<int>(y1 - y0)});
    }
  }
  return out;
}

void fill_black(NativeImage& img, const std::vector<PixelBox>& boxes) {
  const PixelLayout& l = img.layout;
  for (int64_t f = 0; f < l.frames; ++f) {
    uint8_t* frame = img.data + f * img.frame_bytes;
    for (const auto& b : boxes) {
      if (l.samples == 1 && l.bits_allocated == 8) {
        fill_mono<uint8_t>(frame, l, b, static_cast<uint8_t>(black_word(l)));
      } else if (l.samples == 1 && l.bits_allocated != 16) {
        throw DataError("pixel data with BitsAllocated " + std::to_string(l.bits_allocated) +
                        " cannot be cleaned (8 or 16 only)");
      } else if (l.samples == 1) {
        fill_mono<uint16_t>(reinterpret_cast<uint16_t*>(frame), l, b, static_cast<uint16_t>(black_word(l)));
      } else if (l.bits_allocated != 8) {
        throw DataError("colour pixel data with more than 8 bits per sample cannot be cleaned");
      } else if (l.colour == ColourModel::kYbrFull422) {
        fill_ybr422(frame, l, b);
      } else {
        fill_colour(frame, l, b);
      }
    }
  }
}

void keep_only_native_pixels(DcmDataset& ds) {
  ds.removeAllButCurrentRepresentations();
  ds.updateOriginalXfer();
  if (DcmXfer(ds.getOriginalXfer()).isEncapsulated()) {
    throw DataError("the cleaned pixel data is still encapsulated (internal error)");
  }
}

void keep_only_stored_pixels(DcmDataset& ds) { ds.removeAllButOriginalRepresentations(); }

}  // namespace medtrain::data::deid
