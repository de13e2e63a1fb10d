#include "data/dicom/dicom_palette.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "data/dicom/dicom_header.h"

namespace medtrain::data::detail {
namespace {

struct Channel {
  const char* name;
  DcmTagKey data, segmented;
  const char* data_tag;
};

const Channel kChannels[3] = {
    {"Red", DCM_RedPaletteColorLookupTableData, DCM_SegmentedRedPaletteColorLookupTableData, "(0028,1201)"},
    {"Green", DCM_GreenPaletteColorLookupTableData, DCM_SegmentedGreenPaletteColorLookupTableData, "(0028,1202)"},
    {"Blue", DCM_BluePaletteColorLookupTableData, DCM_SegmentedBluePaletteColorLookupTableData, "(0028,1203)"},
};

// The element's values as 16-bit words in host order, and its length in bytes.
// OW/US elements come as words; an OB element is read as little-endian pairs.
bool element_words(DcmDataset* ds, const DcmTagKey& key, std::vector<uint16_t>& words, size_t& bytes) {
  DcmElement* elem = nullptr;
  if (ds->findAndGetElement(key, elem).bad() || elem == nullptr || elem->getLength() == 0) return false;
  bytes = elem->getLength();
  Uint16* w = nullptr;
  if (elem->getUint16Array(w).good() && w != nullptr) {
    words.assign(w, w + bytes / 2);
    if (bytes % 2) words.push_back(0);
    return true;
  }
  Uint8* b = nullptr;
  if (elem->getUint8Array(b).bad() || b == nullptr) return false;
  words.assign((bytes + 1) / 2, 0);
  std::memcpy(words.data(), b, bytes);  // host order is little endian on every target we build
  return true;
}

struct Descriptor {
  int64_t entries = 0, first_mapped = 0;
  int bits = 16;
};

Descriptor read_descriptor(DcmDataset* ds, const std::string& path) {
  const char* what = "Red Palette Color Lookup Table Descriptor (0028,1101)";
  Uint16 v[3] = {};
  for (unsigned long i = 0; i < 3; ++i) {
    if (ds->findAndGetUint16(DCM_RedPaletteColorLookupTableDescriptor, v[i], i).bad()) {
      Sint16 s = 0;  // SS when PixelRepresentation is 1
      if (ds->findAndGetSint16(DCM_RedPaletteColorLookupTableDescriptor, s, i).bad()) {
        dicom_fail(path, std::string("PALETTE COLOR image without a usable ") + what);
      }
      v[i] = static_cast<Uint16>(s);
    }
  }
  Descriptor d;
  d.entries = v[0] == 0 ? 65536 : v[0];
  Sint16 first = 0;  // the second value is signed when the element is SS
  d.first_mapped = ds->findAndGetSint16(DCM_RedPaletteColorLookupTableDescriptor, first, 1).good() ? first : v[1];
  d.bits = v[2];
  if (d.bits != 8 && d.bits != 16) {
    dicom_fail(path, std::string(what) + " gives " + std::to_string(d.bits) + " bits per entry (8 or 16)");
  }
  return d;
}

std::vector<uint16_t> read_table(DcmDataset* ds, const Channel& c, const Descriptor& d, const std::string& path) {
  std::vector<uint16_t> words;
  size_t bytes = 0;
  if (element_words(ds, c.data, words, bytes)) {
    const auto n = static_cast<size_t>(d.entries);
    if (bytes >= 2 * n) return {words.begin(), words.begin() + n};
    if (bytes < n) {
      dicom_fail(path, std::string(c.name) + " Palette Color Lookup Table Data " + c.data_tag + " holds " +
                           std::to_string(bytes) + " bytes for " + std::to_string(n) + " entries");
    }
    const auto* b = reinterpret_cast<const uint8_t*>(words.data());  // one byte per entry
    return {b, b + n};
  }
  if (element_words(ds, c.segmented, words, bytes)) {
    std::vector<uint16_t> seg = words;
    if (d.bits == 8) {  // segments of bytes
      const auto* b = reinterpret_cast<const uint8_t*>(words.data());
      seg.assign(b, b + bytes);
    } else {
      seg.resize(bytes / 2);
    }
    std::vector<uint16_t> lut;
    try {
      lut = expand_segmented_lut(seg);
    } catch (const std::invalid_argument& e) {
      dicom_fail(path, std::string("Segmented ") + c.name + " Palette Color Lookup Table Data: " + e.what());
    }
    if (static_cast<int64_t>(lut.size()) < d.entries) {
      dicom_fail(path, std::string("Segmented ") + c.name + " Palette Color Lookup Table Data expands to " +
                           std::to_string(lut.size()) + " entries, the descriptor says " + std::to_string(d.entries));
    }
    lut.resize(static_cast<size_t>(d.entries));
    return lut;
  }
  dicom_fail(path, std::string("PALETTE COLOR image without ") + c.name + " Palette Color Lookup Table Data " +
                       c.data_tag);
}

// numpy.around(numpy.linspace(y0 + step, y1, n)), step = (y1 - y0) / n.
void linear_segment(double y0, double y1, int64_t n, std::vector<uint16_t>& lut) {
  if (y0 == y1) {
    lut.insert(lut.end(), static_cast<size_t>(n), static_cast<uint16_t>(y1));
    return;
  }
  const double start = y0 + (y1 - y0) / static_cast<double>(n);
  const double delta = (y1 - start) / static_cast<double>(std::max<int64_t>(n - 1, 1));
  for (int64_t i = 0; i < n; ++i) {
    const double v = i == n - 1 && n > 1 ? y1 : start + static_cast<double>(i) * delta;
    lut.push_back(static_cast<uint16_t>(std::nearbyint(v)));  // half to even, like numpy
  }
}

// As pydicom's _expand_segmented_lut (little endian): `limit` segments at most
// (indirect segments copy that many from an earlier offset), -1 for all.
void expand(const std::vector<uint16_t>& data, size_t offset, int64_t limit, std::vector<uint16_t>& lut, int depth) {
  if (depth > 16) throw std::invalid_argument("indirect segments nest too deeply");
  int64_t segments = 0;
  while (offset + 1 < data.size() && (limit < 0 || segments < limit)) {
    const uint16_t opcode = data[offset], length = data[offset + 1];
    offset += 2;
    if (opcode == 0) {
      if (offset + length > data.size()) throw std::invalid_argument("a discrete segment runs past the data");
      lut.insert(lut.end(), data.begin() + static_cast<int64_t>(offset),
                 data.begin() + static_cast<int64_t>(offset + length));
      offset += length;
    } else if (opcode == 1) {
      if (lut.empty()) throw std::invalid_argument("the first segment cannot be a linear segment");
      if (offset >= data.size() || length == 0) throw std::invalid_argument("a linear segment is truncated");
      linear_segment(lut.back(), data[offset], length, lut);
      offset += 1;
    } else if (opcode == 2) {
      if (lut.empty()) throw std::invalid_argument("the first segment cannot be an indirect segment");
      if (offset + 1 >= data.size()) throw std::invalid_argument("an indirect segment is truncated");
      const size_t target = (static_cast<size_t>(data[offset + 1]) << 16) | data[offset];
      offset += 2;
      expand(data, target, length, lut, depth + 1);
    } else {
      throw std::invalid_argument("unknown segment type " + std::to_string(opcode));
    }
    ++segments;
  }
}

}  // namespace

std::vector<uint16_t> expand_segmented_lut(const std::vector<uint16_t>& data) {
  std::vector<uint16_t> lut;
  expand(data, 0, -1, lut, 0);
  return lut;
}

PaletteLut read_palette_lut(DcmDataset* ds, const std::string& path) {
  const Descriptor d = read_descriptor(ds, path);
  PaletteLut lut;
  lut.first_mapped = d.first_mapped;
  for (int k = 0; k < 3; ++k) lut.rgb[k] = read_table(ds, kChannels[k], d, path);
  return lut;
}

PaletteDecode::PaletteDecode(DcmDataset* ds, const DicomImageInfo& info, const std::string& path,
                             const PixelAllocator& allocate)
    : info_(info), stored_(info), allocate_(allocate) {
  if (info.photometric != "PALETTE COLOR") return;
  lut_ = read_palette_lut(ds, path);
  stored_.photometric = "MONOCHROME2";
  stored_.slope = 1.0, stored_.intercept = 0.0;
  indices_allocator_ = [this](const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    indices_.resize(static_cast<size_t>(n));
    return indices_.data();
  };
}

void PaletteDecode::finish() const {
  if (!lut_) return;
  apply_palette(indices_.data(), static_cast<int64_t>(indices_.size()), *lut_, allocate_(info_.shape()));
}

void apply_palette(const float* indices, int64_t n, const PaletteLut& lut, float* out) {
  const auto last = static_cast<int64_t>(lut.rgb[0].size()) - 1;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = std::clamp(static_cast<int64_t>(indices[i]) - lut.first_mapped, int64_t{0}, last);
    for (int c = 0; c < 3; ++c) out[i * 3 + c] = lut.rgb[c][static_cast<size_t>(k)];
  }
}

}  // namespace medtrain::data::detail
