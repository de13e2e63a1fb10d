#include "data/dicom/dicom_decode.h"

#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstring>
#include <utility>
#include <vector>

#include "data/dicom/dicom_codecs.h"
#include "data/dicom/dicom_float_pixels.h"
#include "data/dicom/dicom_fragments.h"
#include "data/dicom/dicom_header.h"
#include "data/dicom/dicom_j2k.h"
#include "data/dicom/dicom_palette.h"
#include "data/dicom/dicom_pixels.h"
#include "data/io/user_file.h"

namespace medtrain::data {
namespace {

using detail::dicom_fail;

// Decompressed sizes above this, from a file whose compressed pixel data is
// this many times smaller, are refused before any codec allocates them: a
// corrupt header must not ask for gigabytes. Real images stay far below (a
// blank 512x512 JPEG-LS frame compresses ~1000x; 64 MiB is 128 such frames).
constexpr double kMaxCompressionRatio = 20000.0;
constexpr double kAlwaysAllowedBytes = 64.0 * 1024 * 1024;
constexpr double kMaxOutputValues = 4.0 * 1024 * 1024 * 1024;

std::string syntax_label(const DicomImageInfo& info) {
  return info.transfer_syntax_name + " (" + info.transfer_syntax_uid + ")";
}

ColourModel colour_model(const std::string& photometric) {
  if (photometric == "YBR_FULL") return ColourModel::kYbrFull;
  if (photometric == "YBR_FULL_422") return ColourModel::kYbrFull422;
  if (photometric == "MONOCHROME1" || photometric == "MONOCHROME2") return ColourModel::kMonochrome;
  return ColourModel::kRgb;  // RGB, and YBR_RCT/ICT whose transform the J2K decoder undid
}

PixelLayout layout_of(const DicomImageInfo& info) {
  PixelLayout l;
  l.rows = info.rows, l.cols = info.cols, l.frames = info.frames;
  l.samples = info.samples_per_pixel;
  l.planar = info.planar_configuration;
  l.bits_allocated = info.bits_allocated, l.bits_stored = info.bits_stored, l.high_bit = info.high_bit;
  l.is_signed = info.pixel_representation == 1;
  l.invert = info.inverted;
  l.colour = colour_model(info.photometric);
  l.slope = info.slope, l.intercept = info.intercept;
  return l;
}

void check_colour_layout(const PixelLayout& l, const DicomImageInfo& info, const std::string& path) {
  if ((l.colour == ColourModel::kYbrFull || l.colour == ColourModel::kYbrFull422) && l.bits_allocated != 8) {
    dicom_fail(path, info.photometric + " with BitsAllocated " + std::to_string(l.bits_allocated) +
                         " is not supported (8 only)");
  }
  if (l.colour == ColourModel::kYbrFull422 && (l.rows * l.cols) % 2 != 0) {
    dicom_fail(path, "YBR_FULL_422 needs an even number of pixels per frame, got " + std::to_string(l.rows) + "x" +
                         std::to_string(l.cols));
  }
}

void check_size(const DicomImageInfo& info, const PixelLayout& l, double compressed_bytes, const std::string& path) {
  const double values = static_cast<double>(info.rows) * info.cols * info.frames * info.samples_per_pixel;
  const double bytes = values * (l.bits_allocated / 8.0);
  if (values > kMaxOutputValues ||
      (compressed_bytes >= 0 && bytes > kAlwaysAllowedBytes && bytes > kMaxCompressionRatio * compressed_bytes)) {
    dicom_fail(path, "image too large or header corrupt: " + std::to_string(info.rows) + "x" +
                         std::to_string(info.cols) + "x" + std::to_string(info.frames) + " frames from " +
                         std::to_string(static_cast<int64_t>(compressed_bytes)) + " bytes of pixel data");
  }
}

DcmElement* pixel_element(DcmDataset* ds, const std::string& path) {
  DcmElement* elem = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, elem).bad() || elem == nullptr) {
    dicom_fail(path, "no Pixel Data (7FE0,0010) in this DICOM file");
  }
  return elem;
}

// 32-bit words of a big-endian file, as pydicom reads them (each 4 file bytes a
// big-endian word), from the bytes DCMTK hands out: it swapped OW in 16-bit
// units (so the halves are still in file order), left OB as stored, and OL in
// 32-bit units (already right). rtdose_expb*.dcm are such files.
std::vector<uint8_t> big_endian_words32(const Uint8* raw, int64_t bytes, DcmEVR vr) {
  std::vector<uint8_t> out(raw, raw + bytes);
  if (vr == EVR_OL) return out;
  for (int64_t i = 0; i + 4 <= bytes; i += 4) {
    uint8_t* w = out.data() + i;
    if (vr == EVR_OB) {
      std::swap(w[0], w[3]), std::swap(w[1], w[2]);
    } else {
      std::swap(w[0], w[2]), std::swap(w[1], w[3]);
    }
  }
  return out;
}

// Native pixel data (possibly after a DCMTK codec) -> floats.
void convert_native(DcmDataset* ds, const DicomImageInfo& info, PixelLayout l, const std::string& path,
                    const PixelAllocator& allocate) {
  // A codec may have changed the colour space (JPEG YBR_FULL_422 -> RGB) and
  // the planar configuration (RLE); the dataset says what it wrote.
  OFString photometric;
  if (ds->findAndGetOFString(DCM_PhotometricInterpretation, photometric).good()) {
    l.colour = colour_model(photometric.c_str());
  }
  Uint16 planar = 0;
  if (l.samples == 3 && ds->findAndGetUint16(DCM_PlanarConfiguration, planar).good()) l.planar = planar;
  check_colour_layout(l, info, path);
  DcmElement* elem = pixel_element(ds, path);
  // DCMTK hands out no array and "Normal" for a zero-length element.
  if (elem->getLength() == 0) dicom_fail(path, "Pixel Data (7FE0,0010) is empty");
  Uint8* raw = nullptr;
  const OFCondition cond = elem->getUint8Array(raw);
  if (cond.bad() || raw == nullptr) dicom_fail(path, std::string("cannot read Pixel Data: ") + cond.text());
  const int64_t have = elem->getLength();
  const int64_t needed = native_pixel_bytes(l);
  if (have < needed) {
    const double values = static_cast<double>(l.rows * l.cols * l.frames * l.samples);
    dicom_fail(path, "pixel data too short: " + std::to_string(static_cast<int64_t>(have * values / needed)) +
                         " values of BitsAllocated (0028,0100) " + std::to_string(l.bits_allocated) +
                         ", expected rows*cols*frames*samples = " + std::to_string(l.rows) + "*" +
                         std::to_string(l.cols) + "*" + std::to_string(l.frames) + "*" + std::to_string(l.samples) +
                         " = " + std::to_string(l.rows * l.cols * l.frames * l.samples));
  }
  // 8-bit samples in an OW element of a big-endian file: DCMTK hands out the
  // words in host order, which is the order of the samples (PS3.5 8.1.1).
  if (l.bits_allocated == 32 && ds->getOriginalXfer() == EXS_BigEndianExplicit) {
    convert_stored_pixels(big_endian_words32(raw, needed, elem->getVR()).data(), l, allocate(info.shape()));
    return;
  }
  convert_stored_pixels(raw, l, allocate(info.shape()));
}

// JPEG 2000: OpenJPEG per frame -> stored words in a planar buffer -> floats.
void decode_j2k(DcmDataset* ds, const DicomImageInfo& info, PixelLayout l, const std::string& path,
                const PixelAllocator& allocate) {
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  check_size(info, l, static_cast<double>(pixel_element(ds, path)->getLength(xfer)), path);
  const std::vector<std::vector<uint8_t>> frames =
      split_encapsulated_frames(pixel_element(ds, path), xfer, info.frames, path);
  if (l.colour == ColourModel::kYbrFull422) l.colour = ColourModel::kYbrFull;  // the codestream is not subsampled
  if (l.bits_allocated == 1) l.bits_allocated = 8;  // the codestream holds 0/1 samples, not packed bits
  l.planar = 1;
  check_colour_layout(l, info, path);
  const int64_t per_frame = l.rows * l.cols * l.samples;
  std::vector<uint8_t> words(static_cast<size_t>(per_frame * l.frames * (l.bits_allocated / 8)));
  for (int64_t f = 0; f < l.frames; ++f) {
    const std::string where = io::display_path(path) + " frame " + std::to_string(f + 1);
    const J2kFrame frame =
        decode_j2k_frame(frames[f].data(), frames[f].size(), l.rows, l.cols, l.samples, where);
    // Two's-complement truncation to BitsAllocated; the stored-value step then
    // masks and sign-extends exactly as for native data.
    for (int64_t i = 0; i < per_frame; ++i) {
      const uint32_t v = static_cast<uint32_t>(frame.planes[i]);
      if (l.bits_allocated == 8) {
        words[f * per_frame + i] = static_cast<uint8_t>(v);
      } else if (l.bits_allocated == 32) {
        reinterpret_cast<uint32_t*>(words.data())[f * per_frame + i] = v;
      } else {
        reinterpret_cast<uint16_t*>(words.data())[f * per_frame + i] = static_cast<uint16_t>(v);
      }
    }
  }
  convert_stored_pixels(words.data(), l, allocate(info.shape()));
}

// Float / Double Float Pixel Data: values, never encapsulated (dicom_float_pixels.h).
void decode_float(DcmDataset* ds, const DicomImageInfo& info, const std::string& path, const PixelAllocator& allocate) {
  const bool is_double = info.bits_allocated == 64;
  const std::string name = is_double ? "Double Float Pixel Data (7FE0,0009)" : "Float Pixel Data (7FE0,0008)";
  if (DcmXfer(ds->getOriginalXfer()).isEncapsulated()) {
    dicom_fail(path, name + " in an encapsulated transfer syntax " + syntax_label(info) + " is not allowed");
  }
  DcmElement* elem = nullptr;
  if (ds->findAndGetElement(is_double ? DCM_DoubleFloatPixelData : DCM_FloatPixelData, elem).bad() ||
      elem == nullptr || elem->getLength() == 0) {
    dicom_fail(path, name + " is empty");
  }
  const int64_t n = info.rows * info.cols * info.frames;
  const int64_t have = elem->getLength() / (info.bits_allocated / 8);
  if (have < n) {
    dicom_fail(path, "pixel data too short: " + name + " holds " + std::to_string(have) +
                         " values, expected rows*cols*frames = " + std::to_string(info.rows) + "*" +
                         std::to_string(info.cols) + "*" + std::to_string(info.frames) + " = " + std::to_string(n));
  }
  float* out = allocate(info.shape());
  int64_t bad = -1;
  OFCondition cond = EC_Normal;
  if (is_double) {
    Float64* v = nullptr;
    cond = elem->getFloat64Array(v);
    if (cond.good() && v != nullptr) bad = convert_float_pixels(v, n, info.slope, info.intercept, out);
  } else {
    Float32* v = nullptr;
    cond = elem->getFloat32Array(v);
    if (cond.good() && v != nullptr) bad = convert_float_pixels(v, n, info.slope, info.intercept, out);
  }
  if (cond.bad()) dicom_fail(path, "cannot read " + name + ": " + cond.text());
  if (bad >= 0) {  // the index only: values are never printed (PHI rule)
    dicom_fail(path, name + " value " + std::to_string(bad) +
                         " is NaN, infinite or beyond 1e30 in magnitude (after RescaleSlope/Intercept)");
  }
}

bool is_j2k(E_TransferSyntax x) { return x == EXS_JPEG2000LosslessOnly || x == EXS_JPEG2000; }

// Compressed by a codec DCMTK has: decompress in place to native little endian.
void decompress_with_dcmtk(DcmDataset* ds, const DicomImageInfo& info, const PixelLayout& l, const std::string& path) {
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  if (!DcmCodecList::canChangeCoding(xfer, EXS_LittleEndianExplicit)) {
    dicom_fail(path, "unsupported transfer syntax " + syntax_label(info) +
                         ": no decoder available (supported: uncompressed, deflate, RLE, JPEG, JPEG-LS, JPEG 2000)");
  }
  // getLength() without the syntax would report the (absent) native length, 0.
  check_size(info, l, static_cast<double>(pixel_element(ds, path)->getLength(xfer)), path);
  const OFCondition cond = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (cond.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit)) {
    dicom_fail(path, "cannot decompress " + syntax_label(info) + ": " + (cond.bad() ? cond.text() : "decoder failed"));
  }
  // DCMTK's JPEG decoders size the samples by the stream's precision (SOF) and
  // write that BitsAllocated back. A header that disagrees would have us read
  // the samples at the wrong width (pydicom refuses such files too).
  Uint16 decoded_bits = 0;
  if (ds->findAndGetUint16(DCM_BitsAllocated, decoded_bits).good() && decoded_bits != l.bits_allocated) {
    dicom_fail(path, "the " + syntax_label(info) + " stream decodes to " + std::to_string(decoded_bits) +
                         "-bit samples but BitsAllocated (0028,0100) is " + std::to_string(l.bits_allocated) +
                         ": the precision in the stream's header does not match the DICOM header");
  }
}

// DCMTK falls back to guessing the encoding when the meta header names a
// transfer syntax it does not know (HTJ2K, JPEG XL, ...); we refuse instead.
void check_meta_syntax(DcmFileFormat& file, const DicomImageInfo& info, const std::string& path) {
  OFString uid;
  if (file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, uid).bad() || uid.empty()) return;
  if (uid.c_str() == info.transfer_syntax_uid) return;
  const DcmXfer named(uid.c_str());
  // A known uncompressed syntax that DCMTK read as another uncompressed one
  // (a mislabelled file) decodes fine; only codecs must not be guessed.
  if (named.getXfer() != EXS_Unknown && !named.isEncapsulated()) return;
  const std::string label = named.getXfer() == EXS_Unknown
                                ? std::string(uid.c_str()) + " (not a transfer syntax DCMTK 3.6.7 knows, e.g. HTJ2K)"
                                : std::string(named.getXferName()) + " (" + uid.c_str() + ")";
  dicom_fail(path, "unsupported transfer syntax " + label +
                       ": no decoder available (supported: uncompressed, deflate, RLE, JPEG, JPEG-LS, JPEG 2000)");
}

}  // namespace

DicomImageInfo read_dicom_info(const std::string& path) {
  register_dicom_codecs();
  DcmFileFormat file;
  detail::load_dicom_file(file, path);
  return detail::read_dicom_header(file.getDataset(), path);
}

DicomImageInfo decode_dicom(const std::string& path, const PixelAllocator& allocate) {
  register_dicom_codecs();
  DcmFileFormat file;
  // The pixels are decoded anyway: one read, retryable. `held` backs `file`'s values.
  const io::MemoryFile held = detail::load_dicom_whole(file, path);
  DcmDataset* ds = file.getDataset();
  if (!ds->tagExists(DCM_PixelData) && !ds->tagExists(DCM_FloatPixelData) && !ds->tagExists(DCM_DoubleFloatPixelData)) {
    dicom_fail(path, "no Pixel Data (7FE0,0010) in this DICOM file");
  }
  DicomImageInfo info = detail::read_dicom_header(ds, path);
  if (info.float_pixels) {
    decode_float(ds, info, path, allocate);
    return info;
  }
  // PALETTE COLOR: the indices decode as a grey image, then the tables map
  // them to RGB (Note [Palette lookup]).
  const detail::PaletteDecode palette(ds, info, path, allocate);
  const DicomImageInfo& stored = palette.stored_info();
  const PixelLayout layout = layout_of(stored);
  const E_TransferSyntax xfer = ds->getOriginalXfer();
  check_meta_syntax(file, info, path);
  if (is_j2k(xfer)) {
    decode_j2k(ds, stored, layout, path, palette.allocator());
  } else {
    if (DcmXfer(xfer).isEncapsulated()) decompress_with_dcmtk(ds, stored, layout, path);
    convert_native(ds, stored, layout, path, palette.allocator());
  }
  palette.finish();
  if (info.inverted && info.window_center) {
    info.window_center = monochrome1_reflect_sum(layout) - *info.window_center;
  }
  return info;
}

}  // namespace medtrain::data
