#include "data/dicom_image.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>

#include "data/data_error.h"
#include "data/dicom_codecs.h"

namespace medtrain::data {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw DataError(path + ": " + what);
}

enum class Layout { kPart10, kRawDataset, kOther };

// A Part 10 file has a 128-byte preamble followed by "DICM". Files without it
// are legal (a bare dataset) but rare; they start with a group 0002 or 0008
// tag. Anything else is not handed to DCMTK at all, so that random bytes can
// not make it chase a bogus multi-gigabyte element length.
Layout sniff(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open file: ") + std::strerror(errno));
  unsigned char buf[132] = {};
  in.read(reinterpret_cast<char*>(buf), sizeof(buf));
  if (in.gcount() == 132 && std::memcmp(buf + 128, "DICM", 4) == 0) return Layout::kPart10;
  const unsigned group = buf[0] | (buf[1] << 8);
  if (in.gcount() >= 8 && (group == 0x0002 || group == 0x0008)) return Layout::kRawDataset;
  return Layout::kOther;
}

void load(DcmFileFormat& file, const std::string& path) {
  const Layout layout = sniff(path);
  if (layout == Layout::kOther) {
    fail(path, "not a DICOM file (no 'DICM' marker at byte 128 and no DICOM tag at the start)");
  }
  const OFCondition cond = file.loadFile(path.c_str());
  if (cond.bad() && layout == Layout::kRawDataset) {
    fail(path, std::string("not a DICOM file (no 'DICM' marker at byte 128 and not a readable dataset: ") +
                   cond.text() + ")");
  }
  if (cond.bad()) fail(path, std::string("truncated or corrupt DICOM file: ") + cond.text());
}

uint16_t get_u16(DcmDataset* ds, const DcmTagKey& key, const char* name, const std::string& path,
                 std::optional<uint16_t> fallback = std::nullopt) {
  Uint16 v = 0;
  if (ds->findAndGetUint16(key, v).good()) return v;
  if (fallback) return *fallback;
  fail(path, std::string("missing ") + name);
}

std::optional<double> get_f64(DcmDataset* ds, const DcmTagKey& key) {
  Float64 v = 0;
  if (ds->findAndGetFloat64(key, v).good()) return v;
  return std::nullopt;
}

DicomImageInfo read_info(DcmDataset* ds, const std::string& path) {
  DicomImageInfo info;
  OFString photometric;
  if (ds->findAndGetOFString(DCM_PhotometricInterpretation, photometric).bad()) {
    fail(path, "missing PhotometricInterpretation (0028,0004)");
  }
  info.photometric = photometric.c_str();
  if (info.photometric != "MONOCHROME1" && info.photometric != "MONOCHROME2") {
    fail(path, "unsupported photometric interpretation '" + info.photometric +
                   "' (supported: MONOCHROME1, MONOCHROME2)");
  }
  const uint16_t samples = get_u16(ds, DCM_SamplesPerPixel, "SamplesPerPixel", path, 1);
  if (samples != 1) fail(path, "unsupported SamplesPerPixel " + std::to_string(samples) + " (expected 1)");
  info.rows = get_u16(ds, DCM_Rows, "Rows (0028,0010)", path);
  info.cols = get_u16(ds, DCM_Columns, "Columns (0028,0011)", path);
  info.bits_allocated = get_u16(ds, DCM_BitsAllocated, "BitsAllocated (0028,0100)", path);
  if (info.bits_allocated != 8 && info.bits_allocated != 16) {
    fail(path, "unsupported BitsAllocated " + std::to_string(info.bits_allocated) + " (supported: 8, 16)");
  }
  info.bits_stored = get_u16(ds, DCM_BitsStored, "BitsStored", path, info.bits_allocated);
  info.high_bit = get_u16(ds, DCM_HighBit, "HighBit", path, info.bits_stored - 1);
  if (info.bits_stored < 1 || info.high_bit + 1 < info.bits_stored ||
      info.high_bit >= info.bits_allocated) {
    fail(path, "inconsistent BitsStored " + std::to_string(info.bits_stored) + " / HighBit " +
                   std::to_string(info.high_bit) + " for BitsAllocated " +
                   std::to_string(info.bits_allocated));
  }
  info.pixel_representation = get_u16(ds, DCM_PixelRepresentation, "PixelRepresentation", path, 0);
  Sint32 frames = 0;  // DCMTK zeroes the output when the element is absent
  if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).good()) {
    if (frames < 1) fail(path, "invalid NumberOfFrames " + std::to_string(frames));
    info.frames = frames;
  }
  info.slope = get_f64(ds, DCM_RescaleSlope).value_or(1.0);
  info.intercept = get_f64(ds, DCM_RescaleIntercept).value_or(0.0);
  info.window_center = get_f64(ds, DCM_WindowCenter);
  info.window_width = get_f64(ds, DCM_WindowWidth);
  return info;
}

// Brings encapsulated pixel data to native little endian in place.
void decompress(DcmDataset* ds, const std::string& path, DicomImageInfo& info) {
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  const DcmXfer x(xfer);
  info.transfer_syntax_uid = x.getXferID();
  if (!x.isEncapsulated()) return;
  const std::string name = std::string(x.getXferName()) + " (" + x.getXferID() + ")";
  if (!DcmCodecList::canChangeCoding(xfer, EXS_LittleEndianExplicit)) {
    fail(path, "unsupported transfer syntax " + name + ": no decoder available");
  }
  const OFCondition cond = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (cond.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit)) {
    fail(path, "cannot decompress " + name + ": " + (cond.bad() ? cond.text() : "decoder failed"));
  }
}

// MONOCHROME1 values v become reflect_sum - v: the reflection inside
// [modality(min stored value), modality(max stored value)].
double reflect_sum(const DicomImageInfo& info) {
  const double half = static_cast<double>(int64_t{1} << (info.bits_stored - 1));
  const bool is_signed = info.pixel_representation == 1;
  const double lo = is_signed ? -half : 0.0;
  const double hi = is_signed ? half - 1 : 2 * half - 1;
  return (lo + hi) * info.slope + 2.0 * info.intercept;
}

template <typename T>
bool to_modality(const T* raw, float* out, int64_t n, const DicomImageInfo& info) {
  if (raw == nullptr) return false;
  const int shift = info.high_bit + 1 - info.bits_stored;
  const uint32_t mask = static_cast<uint32_t>((uint64_t{1} << info.bits_stored) - 1);
  const int64_t sign_bit = int64_t{1} << (info.bits_stored - 1);
  const bool is_signed = info.pixel_representation == 1;
  const double reflect = reflect_sum(info);
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = (static_cast<uint32_t>(raw[i]) >> shift) & mask;
    if (is_signed && (v & sign_bit)) v -= int64_t{1} << info.bits_stored;
    const double m = static_cast<double>(v) * info.slope + info.intercept;
    out[i] = static_cast<float>(info.inverted ? reflect - m : m);
  }
  return true;
}

}  // namespace

DicomImage read_dicom_image(const std::string& path) {
  register_dicom_codecs();
  DcmFileFormat file;
  load(file, path);
  DcmDataset* ds = file.getDataset();
  if (!ds->tagExists(DCM_PixelData)) fail(path, "no Pixel Data (7FE0,0010) in this DICOM file");
  DicomImageInfo info = read_info(ds, path);
  info.inverted = info.photometric == "MONOCHROME1";
  decompress(ds, path, info);

  DcmElement* elem = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, elem).bad() || elem == nullptr) {
    fail(path, "no Pixel Data (7FE0,0010) in this DICOM file");
  }
  const int64_t needed = info.rows * info.cols * info.frames;
  const int64_t bytes_per = info.bits_allocated / 8;
  const int64_t have = static_cast<int64_t>(elem->getLength()) / bytes_per;
  if (have < needed) {
    fail(path, "pixel data too short: " + std::to_string(have) + " values, expected rows*cols*frames = " +
                   std::to_string(info.rows) + "*" + std::to_string(info.cols) + "*" +
                   std::to_string(info.frames) + " = " + std::to_string(needed));
  }
  torch::Tensor pixels = torch::empty({info.frames, info.rows, info.cols}, torch::kFloat32);
  float* out = pixels.data_ptr<float>();
  OFCondition cond;
  bool converted = false;
  if (info.bits_allocated == 16) {
    Uint16* raw = nullptr;
    cond = elem->getUint16Array(raw);
    converted = cond.good() && to_modality(raw, out, needed, info);
  } else {
    Uint8* raw = nullptr;
    cond = elem->getUint8Array(raw);
    converted = cond.good() && to_modality(raw, out, needed, info);
  }
  if (!converted) fail(path, std::string("cannot read Pixel Data: ") + cond.text());
  if (info.inverted && info.window_center) {
    info.window_center = reflect_sum(info) - *info.window_center;
  }
  return DicomImage{std::move(pixels), std::move(info)};
}

}  // namespace medtrain::data
