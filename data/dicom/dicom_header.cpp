#include "data/dicom/dicom_header.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

#include "data/data_error.h"
#include "data/dicom/dicom_depth_check.h"
#include "data/dicom/dicom_guarded_read.h"
#include "data/io/user_file.h"

namespace medtrain::data {

std::vector<int64_t> DicomImageInfo::shape() const {
  if (photometric == "PALETTE COLOR") return {frames, rows, cols, 3};  // indices -> RGB
  if (samples_per_pixel == 1) return {frames, rows, cols};
  return {frames, rows, cols, samples_per_pixel};
}

namespace detail {
namespace {

enum class Layout { kPart10, kRawDataset, kOther };

// A Part 10 file has a 128-byte preamble followed by "DICM". Files without it
// are legal (a bare dataset) but rare; they start with a group 0002 or 0008
// tag. Anything else is not handed to DCMTK at all, so that random bytes can
// not make it chase a bogus multi-gigabyte element length.
Layout sniff_bytes(const unsigned char* buf, size_t n) {
  if (n >= 132 && std::memcmp(buf + 128, "DICM", 4) == 0) return Layout::kPart10;
  if (n < 8) return Layout::kOther;
  const unsigned group = buf[0] | (buf[1] << 8);
  const unsigned group_be = (buf[0] << 8) | buf[1];
  if (group == 0x0002 || group == 0x0008 || group_be == 0x0008) return Layout::kRawDataset;
  return Layout::kOther;
}

Layout sniff(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) dicom_fail(path, std::string("cannot open file: ") + std::strerror(errno));
  unsigned char buf[132] = {};
  in.read(reinterpret_cast<char*>(buf), sizeof(buf));
  return sniff_bytes(buf, static_cast<size_t>(in.gcount()));
}

// What load_dicom_file and load_dicom_whole say when DCMTK did not parse.
void fail_parse(const OFCondition& cond, Layout layout, const std::string& path) {
  if (cond == kNestingBudgetExceeded) dicom_fail(path, cond.text());
  if (cond.bad() && layout == Layout::kRawDataset) {
    dicom_fail(path, std::string("not a DICOM file (no 'DICM' marker at byte 128 and not a readable dataset: ") +
                         cond.text() + ")");
  }
  if (cond.bad()) dicom_fail(path, std::string("truncated or corrupt DICOM file: ") + cond.text());
}

void fail_not_dicom(const std::string& path) {
  dicom_fail(path, "not a DICOM file (no 'DICM' marker at byte 128 and no DICOM tag at the start)");
}

uint16_t get_u16(DcmDataset* ds, const DcmTagKey& key, const char* name, const std::string& path,
                 std::optional<uint16_t> fallback = std::nullopt) {
  Uint16 v = 0;
  if (ds->findAndGetUint16(key, v).good()) return v;
  if (fallback) return *fallback;
  dicom_fail(path, std::string("missing ") + name);
}

std::optional<double> get_f64(DcmDataset* ds, const DcmTagKey& key, unsigned long pos = 0) {
  Float64 v = 0;
  if (ds->findAndGetFloat64(key, v, pos).good()) return v;
  return std::nullopt;
}

// Note [Finite modality values]
// A NaN or infinite RescaleSlope/Intercept or window, or a slope that maps the
// stored range beyond float32, turns every training step into NaN. The checks
// below bound the modality values of the whole storable range [lo, hi] (and
// the window) by kMaxMagnitude, so every decoded value is finite without a
// second pass over the pixels: each pixel is v * slope + intercept with v in
// [lo, hi] (colour: [0, 255] inside that range), its MONOCHROME1 reflection
// stays in [m(lo), m(hi)], and windowing ((x - lo) / width, clamped) can then
// give +-inf at worst, never NaN. Values are never printed (PHI rule).
constexpr double kMaxMagnitude = 1e30;
constexpr double kMinWindowWidth = 1e-30;

const char* not_finite(double v) { return std::isnan(v) ? "NaN" : "infinite"; }

// The first value of a numeric attribute: absent (or empty) -> nullopt; present
// but not a number, NaN or infinite -> DataError naming the attribute.
std::optional<double> get_finite(DcmDataset* ds, const DcmTagKey& key, const char* name, const std::string& path) {
  DcmElement* elem = nullptr;
  if (ds->findAndGetElement(key, elem).bad() || elem == nullptr || elem->getLength() == 0) return std::nullopt;
  const std::optional<double> v = get_f64(ds, key);
  if (!v) dicom_fail(path, std::string(name) + " is not a number");
  if (!std::isfinite(*v)) dicom_fail(path, std::string(name) + " is " + not_finite(*v));
  return v;
}

void read_value_transform(DcmDataset* ds, const std::string& path, DicomImageInfo& info) {
  info.slope = get_finite(ds, DCM_RescaleSlope, "RescaleSlope (0028,1053)", path).value_or(1.0);
  info.intercept = get_finite(ds, DCM_RescaleIntercept, "RescaleIntercept (0028,1052)", path).value_or(0.0);
  if (info.slope == 0) dicom_fail(path, "RescaleSlope (0028,1053) is 0 (every pixel would be the intercept)");
  // Float pixels have no storable range: each value is checked when decoded
  // (dicom_float_pixels.h); here only the slope itself must be finite-sized.
  const double half = info.float_pixels ? 0.5 : std::ldexp(1.0, info.bits_stored - 1);
  const double lo = info.pixel_representation == 1 ? -half : 0.0;
  const double hi = info.pixel_representation == 1 ? half - 1 : 2 * half - 1;
  const double m_lo = lo * info.slope + info.intercept, m_hi = hi * info.slope + info.intercept;
  if (!(std::abs(m_lo) <= kMaxMagnitude && std::abs(m_hi) <= kMaxMagnitude && std::abs(info.slope) <= kMaxMagnitude)) {
    dicom_fail(path, "RescaleSlope (0028,1053) and RescaleIntercept (0028,1052) map the stored values beyond "
                     "float32 range (|value| > 1e30)");
  }
  info.window_center = get_finite(ds, DCM_WindowCenter, "WindowCenter (0028,1050)", path);
  info.window_width = get_finite(ds, DCM_WindowWidth, "WindowWidth (0028,1051)", path);
  if (info.window_center && !(std::abs(*info.window_center) <= kMaxMagnitude)) {
    dicom_fail(path, "WindowCenter (0028,1050) is beyond float32 range (|value| > 1e30)");
  }
  if (info.window_width && !(*info.window_width >= kMinWindowWidth && *info.window_width <= kMaxMagnitude)) {
    dicom_fail(path, std::string("WindowWidth (0028,1051) is ") +
                         (*info.window_width <= 0 ? "not positive" : "out of range") + " (must be in [1e-30, 1e30])");
  }
}

template <size_t N>
std::optional<std::array<double, N>> get_vector(DcmDataset* ds, const DcmTagKey& key) {
  std::array<double, N> out{};
  for (size_t i = 0; i < N; ++i) {
    const std::optional<double> v = get_f64(ds, key, static_cast<unsigned long>(i));
    if (!v) return std::nullopt;
    out[i] = *v;
  }
  return out;
}

std::string get_string(DcmDataset* ds, const DcmTagKey& key) {
  OFString s;
  if (ds->findAndGetOFString(key, s).bad()) return "";
  return s.c_str();
}

// Integer Pixel Data: 1 (packed bits), 8, 16 or 32 bits allocated. Float Pixel
// Data (7FE0,0008) holds IEEE floats of 32 bits, Double Float (7FE0,0009) of 64.
void check_bits_allocated(const std::string& path, const DicomImageInfo& info) {
  const int a = info.bits_allocated;
  if (info.float_pixels && a != 32 && a != 64) {
    dicom_fail(path, "unsupported BitsAllocated " + std::to_string(a) +
                         " (0028,0100) for Float/Double Float Pixel Data (7FE0,0008/0009): must be 32 or 64");
  }
  if (!info.float_pixels && a != 1 && a != 8 && a != 16 && a != 32) {
    dicom_fail(path, "unsupported BitsAllocated " + std::to_string(a) + " (0028,0100) (supported: 1, 8, 16, 32)");
  }
}

void read_bits(DcmDataset* ds, const std::string& path, DicomImageInfo& info) {
  info.bits_allocated = get_u16(ds, DCM_BitsAllocated, "BitsAllocated (0028,0100)", path);
  info.float_pixels =
      !ds->tagExists(DCM_PixelData) && (ds->tagExists(DCM_FloatPixelData) || ds->tagExists(DCM_DoubleFloatPixelData));
  if (info.float_pixels && ds->tagExists(DCM_DoubleFloatPixelData) != (info.bits_allocated == 64)) {
    dicom_fail(path, "BitsAllocated (0028,0100) " + std::to_string(info.bits_allocated) + " does not match " +
                         (ds->tagExists(DCM_DoubleFloatPixelData) ? "Double Float Pixel Data (7FE0,0009), 64 bits"
                                                                   : "Float Pixel Data (7FE0,0008), 32 bits"));
  }
  check_bits_allocated(path, info);
  info.bits_stored = get_u16(ds, DCM_BitsStored, "BitsStored", path, info.bits_allocated);
  info.high_bit = get_u16(ds, DCM_HighBit, "HighBit", path, info.bits_stored - 1);
  if (info.float_pixels) {  // no stored-value step: every bit is the float's
    info.bits_stored = info.bits_allocated, info.high_bit = info.bits_allocated - 1;
  }
  if (info.bits_stored < 1 || info.bits_stored > info.bits_allocated || info.high_bit + 1 < info.bits_stored ||
      info.high_bit >= info.bits_allocated) {
    dicom_fail(path, "inconsistent BitsStored (0028,0101) " + std::to_string(info.bits_stored) +
                         " / HighBit (0028,0102) " + std::to_string(info.high_bit) +
                         " for BitsAllocated (0028,0100) " + std::to_string(info.bits_allocated));
  }
  info.pixel_representation = get_u16(ds, DCM_PixelRepresentation, "PixelRepresentation", path, 0);
  if (info.pixel_representation > 1) {
    dicom_fail(path, "invalid PixelRepresentation " + std::to_string(info.pixel_representation) + " (0 or 1)");
  }
  if (info.float_pixels && info.samples_per_pixel != 1) {
    dicom_fail(path, "Float/Double Float Pixel Data (7FE0,0008/0009) with " + info.photometric + " is not supported "
                     "(one sample per pixel only)");
  }
  if (info.float_pixels && info.inverted) {
    // MONOCHROME1 is reflected inside the range of the stored bits, which
    // floats do not have.
    dicom_fail(path, "Float/Double Float Pixel Data (7FE0,0008/0009) with MONOCHROME1 is not supported");
  }
}

void read_photometric(DcmDataset* ds, const std::string& path, DicomImageInfo& info) {
  info.photometric = get_string(ds, DCM_PhotometricInterpretation);
  if (info.photometric.empty()) dicom_fail(path, "missing PhotometricInterpretation (0028,0004)");
  const std::string& p = info.photometric;
  const bool mono = p == "MONOCHROME1" || p == "MONOCHROME2" || p == "PALETTE COLOR";  // one sample per pixel
  const bool colour = p == "RGB" || p == "YBR_FULL" || p == "YBR_FULL_422" || p == "YBR_RCT" || p == "YBR_ICT";
  if (!mono && !colour) {
    dicom_fail(path, "unsupported photometric interpretation '" + p +
                         "' (supported: MONOCHROME1, MONOCHROME2, PALETTE COLOR, RGB, YBR_FULL, YBR_FULL_422, "
                         "YBR_RCT, YBR_ICT)");
  }
  info.samples_per_pixel = get_u16(ds, DCM_SamplesPerPixel, "SamplesPerPixel", path, mono ? 1 : 3);
  if (info.samples_per_pixel != (mono ? 1 : 3)) {
    dicom_fail(path, "unsupported SamplesPerPixel " + std::to_string(info.samples_per_pixel) + " for " + p +
                         " (expected " + (mono ? "1)" : "3)"));
  }
  info.planar_configuration = mono ? 0 : get_u16(ds, DCM_PlanarConfiguration, "PlanarConfiguration", path, 0);
  if (info.planar_configuration > 1) {
    dicom_fail(path, "invalid PlanarConfiguration " + std::to_string(info.planar_configuration) + " (0 or 1)");
  }
  info.inverted = p == "MONOCHROME1";
}

}  // namespace

void dicom_fail(const std::string& path, const std::string& what) {
  throw DataError(io::display_path(path) + ": " + what);
}

void load_dicom_file(DcmFileFormat& file, const std::string& path) {
  // A FIFO or device would block or read without end inside DCMTK.
  io::check_regular_file(path, "DICOM file", io::kMaxDicomBytes);
  const Layout layout = sniff(path);
  if (layout == Layout::kOther) fail_not_dicom(path);
  // DCMTK recurses once per sequence level: Note [Nesting before parsing].
  if (auto problem = check_sequence_depth_file(path)) dicom_fail(path, *problem);
  fail_parse(load_dicom_guarded(file, path), layout, path);  // Note [Stack budget]
}

io::MemoryFile load_dicom_whole(DcmFileFormat& file, const std::string& path) {
  const std::string bytes = io::read_user_file(path, "DICOM file", io::kMaxDicomBytes);
  const Layout layout = sniff_bytes(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  if (layout == Layout::kOther) fail_not_dicom(path);
  if (auto problem = check_sequence_depth(bytes.data(), bytes.size())) dicom_fail(path, *problem);
  // A file stream, not a buffer: from a buffer DCMTK allocates every value's
  // declared length before reading it, which the pre-scan bounds only where its
  // reading agrees with DCMTK's (the fuzzer found three places it did not).
  io::MemoryFile held(bytes, io::display_path(path));
  fail_parse(load_dicom_guarded(file, held.path()), layout, path);  // Note [Stack budget]
  return held;
}

DicomImageInfo read_dicom_header(DcmDataset* ds, const std::string& path) {
  DicomImageInfo info;
  const DcmXfer xfer(ds->getOriginalXfer());
  info.transfer_syntax_uid = xfer.getXferID();
  info.transfer_syntax_name = xfer.getXferName();
  read_photometric(ds, path, info);
  info.rows = get_u16(ds, DCM_Rows, "Rows (0028,0010)", path);
  info.cols = get_u16(ds, DCM_Columns, "Columns (0028,0011)", path);
  if (info.rows < 1 || info.cols < 1) {
    dicom_fail(path, "empty image: Rows " + std::to_string(info.rows) + ", Columns " + std::to_string(info.cols));
  }
  read_bits(ds, path, info);
  Sint32 frames = 0;  // DCMTK zeroes the output when the element is absent
  if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).good()) {
    if (frames < 1) dicom_fail(path, "invalid NumberOfFrames " + std::to_string(frames));
    info.frames = frames;
  }
  read_value_transform(ds, path, info);  // Note [Finite modality values]
  info.modality = get_string(ds, DCM_Modality);
  info.pixel_spacing = get_vector<2>(ds, DCM_PixelSpacing);
  info.image_position = get_vector<3>(ds, DCM_ImagePositionPatient);
  info.image_orientation = get_vector<6>(ds, DCM_ImageOrientationPatient);
  info.series_instance_uid = get_string(ds, DCM_SeriesInstanceUID);
  return info;
}

}  // namespace detail
}  // namespace medtrain::data
