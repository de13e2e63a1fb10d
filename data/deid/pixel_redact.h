#pragma once
// Blacking out boxes in native pixel data (pixel_render.h's NativeImage), in
// every frame, and making the result the only pixel data the file keeps:
// uncompressed, written as explicit VR little endian (docs/deid.md says why:
// a lossy re-encode would alter diagnostic pixels and its artefacts can keep
// traces of the text legible; a lossless re-encode is possible later).
//
// "Black" is what a display shows darkest: the smallest stored value for
// MONOCHROME2 (largest with a negative slope), the largest for MONOCHROME1,
// 0,0,0 for RGB, Y=0 Cb=Cr=128 for YBR (a YBR_FULL_422 pair touching a box
// loses its chroma). Every bit of the word is written, so overlay bits kept in
// unused high bits of old files are cleared inside the boxes too.
#include <array>
#include <vector>

#include "data/deid/pixel_render.h"

class DcmDataset;

namespace medtrain::data::deid {

// x, y, w, h in stored pixels.
using PixelBox = std::array<int, 4>;

// Grows each box by `margin` pixels on every side and clips it to the image;
// drops boxes left empty.
std::vector<PixelBox> grow_and_clip(const std::vector<PixelBox>& boxes, int margin, int64_t rows, int64_t cols);

// Fills every box (already clipped) with black in every frame.
void fill_black(NativeImage& image, const std::vector<PixelBox>& boxes);

// Drops the compressed copy of Pixel Data and sets the file's transfer syntax
// to the native one, so that the redacted pixels are what gets written.
void keep_only_native_pixels(DcmDataset& ds);

// Restores the stored encoding untouched (nothing was redacted): the native
// copy made for OCR is dropped.
void keep_only_stored_pixels(DcmDataset& ds);

}  // namespace medtrain::data::deid
