#pragma once
// The pixel side of a DICOM SEG (dicom_seg_writer.cpp): the bytes of each
// segment's frames, made one segment at a time so that a large series never
// holds every segment's mask at once, and the 1-bit Pixel Data of a BINARY SEG.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace medtrain::exporter::detail {

class SegmentFrames {
 public:
  // labels uint8 [D, H, W]; probabilities uint8 [C, D, H, W] when fractional
  // (checked by the caller). Segments are 1..classes-1.
  SegmentFrames(at::Tensor labels, at::Tensor probabilities, bool fractional, int64_t classes)
      : labels_(std::move(labels)), probabilities_(std::move(probabilities)), fractional_(fractional),
        classes_(classes) {}

  int64_t segments() const { return classes_ - 1; }
  // uint8 [D, H, W], contiguous: 0/1 (voxel is of this class) for binary, the
  // 0..255 probability for fractional. `segment` is 1-based.
  at::Tensor bytes(int64_t segment) const;

 private:
  at::Tensor labels_, probabilities_;
  bool fractional_;
  int64_t classes_;
};

// Note [1-bit frames]: DCMTK 3.6.7 (Debian 12) packs consecutive BINARY
// frames wrongly when rows * columns is not a multiple of 8 (DCMTK issue
// #1132, fixed in 3.6.9): from the second frame on the bits land shifted. So
// the Pixel Data of a binary SEG is packed here, as PS3.5 8.1.1 lays 1-bit
// pixels: frames back to back with no padding between them, pixel n of the
// whole multi-frame at bit n % 8 (least significant first) of byte n / 8.
// Frames in the SEG's order: segment-major, slices in volume order. The
// result has an even length (DICOM values do).
std::vector<uint8_t> pack_binary_frames(const SegmentFrames& frames);

}  // namespace medtrain::exporter::detail
