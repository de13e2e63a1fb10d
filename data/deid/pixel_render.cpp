#include "data/deid/pixel_render.h"

#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cmath>

#include "data/data_error.h"
#include "data/dicom/dicom_header.h"

namespace medtrain::data::deid {
namespace {

constexpr const char* kWhere = "image";  // messages name no path here; the runner adds it

ColourModel colour_model(const std::string& photometric) {
  if (photometric == "YBR_FULL") return ColourModel::kYbrFull;
  if (photometric == "YBR_FULL_422") return ColourModel::kYbrFull422;
  if (photometric == "MONOCHROME1" || photometric == "MONOCHROME2") return ColourModel::kMonochrome;
  return ColourModel::kRgb;
}

std::string get(DcmDataset& ds, const DcmTagKey& key) {
  OFString s;
  return ds.findAndGetOFString(key, s).good() ? s.c_str() : "";
}

uint8_t to_byte(double v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

GreyImage grey_from_values(const std::vector<float>& v, const NativeImage& img, std::optional<double> center,
                           std::optional<double> width) {
  GreyImage g;
  g.width = static_cast<int>(img.layout.cols);
  g.height = static_cast<int>(img.layout.rows);
  g.pixels.resize(v.size());
  double lo, hi;
  if (center && width) {  // PS3.3 C.11.2.1.2 linear window
    lo = *center - 0.5 - (*width - 1) / 2;
    hi = *center - 0.5 + (*width - 1) / 2;
  } else {
    const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
    lo = v.empty() ? 0 : *mn;
    hi = v.empty() ? 1 : *mx;
  }
  const double scale = hi > lo ? 255.0 / (hi - lo) : 0.0;
  for (size_t i = 0; i < v.size(); ++i) g.pixels[i] = hi > lo ? to_byte((v[i] - lo) * scale) : 0;
  return g;
}

}  // namespace

NativeImage open_native_pixels(DcmDataset& ds) {
  if (!ds.tagExists(DCM_PixelData)) throw DataError("no Pixel Data (7FE0,0010)");
  NativeImage img;
  img.info = detail::read_dicom_header(&ds, kWhere);
  const E_TransferSyntax xfer = ds.getOriginalXfer();
  const DcmXfer x(xfer);
  if (x.isEncapsulated()) {
    if (xfer == EXS_JPEG2000LosslessOnly || xfer == EXS_JPEG2000) {
      throw DataError("JPEG 2000 pixel data cannot be cleaned (no JPEG 2000 codec in DCMTK to redact through)");
    }
    if (!DcmCodecList::canChangeCoding(xfer, EXS_LittleEndianExplicit)) {
      throw DataError(std::string("no decoder for transfer syntax ") + x.getXferName());
    }
    img.converted = true;
  }
  if (xfer != EXS_LittleEndianExplicit) img.converted = true;
  const OFCondition cond = ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (cond.bad() || !ds.canWriteXfer(EXS_LittleEndianExplicit)) {
    throw DataError(std::string("cannot decode the pixel data (") + x.getXferName() + ")");
  }
  PixelLayout& l = img.layout;
  l.rows = img.info.rows, l.cols = img.info.cols, l.frames = img.info.frames;
  l.samples = img.info.samples_per_pixel;
  l.bits_allocated = img.info.bits_allocated, l.bits_stored = img.info.bits_stored, l.high_bit = img.info.high_bit;
  l.is_signed = img.info.pixel_representation == 1;
  l.invert = img.info.inverted;
  l.slope = img.info.slope, l.intercept = img.info.intercept;
  l.colour = colour_model(get(ds, DCM_PhotometricInterpretation));  // a codec may have converted YBR to RGB
  Uint16 planar = 0;
  if (l.samples == 3 && ds.findAndGetUint16(DCM_PlanarConfiguration, planar).good()) l.planar = planar;
  if ((l.colour == ColourModel::kYbrFull || l.colour == ColourModel::kYbrFull422) && l.bits_allocated != 8) {
    throw DataError("YBR colour with more than 8 bits is not supported");
  }
  // Frames are addressed in whole bytes here; packed 1-bit frames start inside bytes.
  if (l.bits_allocated == 1) throw DataError("1-bit pixel data (BitsAllocated 1) cannot be rendered or cleaned");
  if (l.colour == ColourModel::kYbrFull422 && (l.planar != 0 || (l.rows * l.cols) % 2 != 0)) {
    throw DataError("YBR_FULL_422 pixel data with an odd pixel count or planar layout is not supported");
  }
  DcmElement* elem = nullptr;
  Uint8* raw = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, elem).bad() || elem == nullptr || elem->getUint8Array(raw).bad() ||
      raw == nullptr) {
    throw DataError("cannot read the decoded pixel data");
  }
  PixelLayout one = l;
  one.frames = 1;
  img.frame_bytes = native_pixel_bytes(one);
  if (static_cast<int64_t>(elem->getLength()) < native_pixel_bytes(l)) {
    throw DataError("pixel data shorter than rows*columns*frames*samples");
  }
  img.data = raw;
  return img;
}

std::vector<GreyImage> render_frame_views(const NativeImage& img, int64_t frame) {
  PixelLayout one = img.layout;
  one.frames = 1;
  const int64_t pixels = one.rows * one.cols;
  std::vector<float> values(static_cast<size_t>(pixels * one.samples));
  convert_stored_pixels(img.data + frame * img.frame_bytes, one, values.data());
  std::vector<GreyImage> views;
  if (one.samples == 3) {
    std::vector<float> luma(static_cast<size_t>(pixels));
    for (int64_t i = 0; i < pixels; ++i) {
      luma[i] = 0.299f * values[3 * i] + 0.587f * values[3 * i + 1] + 0.114f * values[3 * i + 2];
    }
    views.push_back(grey_from_values(luma, img, 0.0 + 127.5 + 0.5, 256.0));  // identity on 0..255
    return views;
  }
  std::optional<double> center = img.info.window_center, width = img.info.window_width;
  if (center && width && img.info.inverted) center = monochrome1_reflect_sum(one) - *center;  // as the values
  if (center && width) views.push_back(grey_from_values(values, img, center, width));
  views.push_back(grey_from_values(values, img, std::nullopt, std::nullopt));
  return views;
}

uint64_t text_band_hash(const NativeImage& img, int64_t frame) {
  const int64_t band_rows = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(img.layout.rows * kBandShare)));
  const int64_t row_bytes = img.frame_bytes / std::max<int64_t>(1, img.layout.rows);
  const uint8_t* f = img.data + frame * img.frame_bytes;
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  auto mix = [&h](const uint8_t* p, int64_t n) {
    for (int64_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  if (img.layout.planar == 1 || img.layout.colour == ColourModel::kYbrFull422) {
    mix(f, img.frame_bytes);  // bands are not contiguous rows: hash the whole frame
    return h;
  }
  mix(f, band_rows * row_bytes);
  mix(f + (img.layout.rows - band_rows) * row_bytes, band_rows * row_bytes);
  return h;
}

}  // namespace medtrain::data::deid
