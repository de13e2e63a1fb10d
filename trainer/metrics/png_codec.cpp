#include "trainer/metrics/png_codec.h"

#include <png.h>

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace medtrain::metrics {
namespace {

// Note [libpng errors]
// libpng reports errors through a callback that must not return. It cannot
// throw either: the exception would unwind through C frames. So the callback
// keeps the message and longjmps back to the setjmp in encode/decode, which
// then frees libpng's structs and throws. No destructor is skipped: the C++
// objects the jump crosses exist before setjmp and are reached only through
// pointers (encode's output string, decode's image in its caller's frame),
// and the png/info pointers are not changed after setjmp.
// A PNG's header may claim any size up to libpng's 1e6 x 1e6 limit; refuse
// to allocate more than 1 GiB for one picture.
constexpr uint64_t kMaxDecodedBytes = uint64_t{1} << 30;

struct PngFailure {
  std::jmp_buf jump;
  char message[256] = {0};
};

[[noreturn]] void on_png_error(png_structp png, png_const_charp message) {
  auto* failure = static_cast<PngFailure*>(png_get_error_ptr(png));
  std::snprintf(failure->message, sizeof(failure->message), "%s", message);
  std::longjmp(failure->jump, 1);
}

void on_png_warning(png_structp, png_const_charp) {}  // benign (e.g. a bad gAMA): decode anyway

int colour_type(int channels) {
  switch (channels) {
    case 1: return PNG_COLOR_TYPE_GRAY;
    case 3: return PNG_COLOR_TYPE_RGB;
    case 4: return PNG_COLOR_TYPE_RGB_ALPHA;
    default: return -1;
  }
}

void check_encodable(const RasterImage& image) {
  if (image.width <= 0 || image.height <= 0) {
    throw std::invalid_argument("encode_png: empty image (" + std::to_string(image.width) + "x" +
                                std::to_string(image.height) + ")");
  }
  if (colour_type(image.channels) < 0) {
    throw std::invalid_argument("encode_png: " + std::to_string(image.channels) +
                                " channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)");
  }
  if (image.width > PNG_UINT_31_MAX || image.height > PNG_UINT_31_MAX) {
    throw std::invalid_argument("encode_png: image too large for PNG");
  }
  const auto want = static_cast<size_t>(image.width) * static_cast<size_t>(image.height) *
                    static_cast<size_t>(image.channels);
  if (image.pixels.size() != want) {
    throw std::invalid_argument("encode_png: pixel buffer holds " + std::to_string(image.pixels.size()) +
                                " bytes, " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                                "x" + std::to_string(image.channels) + " needs " + std::to_string(want));
  }
}

void append_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  try {
    out->append(reinterpret_cast<const char*>(data), length);
  } catch (...) {  // see Note [libpng errors]: no exception may cross libpng
    png_error(png, "out of memory while encoding");
  }
}

void flush_nothing(png_structp) {}

struct ReadCursor {
  const std::string* bytes;
  size_t at = 0;
};

void read_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* cursor = static_cast<ReadCursor*>(png_get_io_ptr(png));
  if (length > cursor->bytes->size() - cursor->at) png_error(png, "PNG data cut short");
  std::memcpy(data, cursor->bytes->data() + cursor->at, length);
  cursor->at += length;
}

}  // namespace

std::string encode_png(const RasterImage& image) {
  check_encodable(image);
  std::string out;
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  const size_t stride = static_cast<size_t>(image.width) * static_cast<size_t>(image.channels);
  for (size_t y = 0; y < rows.size(); ++y) {
    // libpng's row pointers are non-const but png_write_image only reads them.
    rows[y] = const_cast<png_bytep>(image.pixels.data() + y * stride);
  }
  PngFailure failure;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &failure, on_png_error, on_png_warning);
  if (png == nullptr) throw std::runtime_error("encode_png: libpng could not start");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    throw std::runtime_error("encode_png: libpng could not start");
  }
  if (setjmp(failure.jump) != 0) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error(std::string("encode_png: libpng: ") + failure.message);
  }
  png_set_write_fn(png, &out, append_bytes, flush_nothing);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               colour_type(image.channels), PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

namespace {

// The libpng half of decode_png. `image` and `rows` belong to the caller, so
// what libpng's longjmp skips over is only this frame's png and info, which
// do not change after setjmp (Note [libpng errors]). False with
// failure.message set when the bytes are not a readable PNG.
bool read_png_into(const std::string& bytes, RasterImage& image, std::vector<png_bytep>& rows,
                   PngFailure& failure) {
  ReadCursor cursor{&bytes};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, on_png_error, on_png_warning);
  png_infop info = png == nullptr ? nullptr : png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::snprintf(failure.message, sizeof(failure.message), "libpng could not start");
    return false;
  }
  if (setjmp(failure.jump) != 0) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, &cursor, read_bytes);
  png_read_info(png, info);
  // Everything to 8 bits per sample, 1, 3 or 4 channels: palettes and low
  // bit depths expanded, 16-bit stripped to its high byte, transparency to
  // alpha, and gray+alpha to RGBA (RasterImage has no 2-channel form).
  const png_byte type = png_get_color_type(png, info);
  png_set_strip_16(png);
  png_set_packing(png);
  if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (type == PNG_COLOR_TYPE_GRAY) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS) != 0) png_set_tRNS_to_alpha(png);
  const bool has_alpha = (type & PNG_COLOR_MASK_ALPHA) != 0 || png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  if ((type & PNG_COLOR_MASK_COLOR) == 0 && has_alpha) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);

  image.width = png_get_image_width(png, info);
  image.height = png_get_image_height(png, info);
  image.channels = png_get_channels(png, info);
  if (png_get_rowbytes(png, info) != static_cast<size_t>(image.width) * image.channels) {
    png_error(png, "unexpected row layout after conversion to 8 bits");
  }
  if (static_cast<uint64_t>(image.width) * image.height * image.channels > kMaxDecodedBytes) {
    png_error(png, "image too large to decode");
  }
  image.pixels.resize(static_cast<size_t>(image.width) * image.height * image.channels);
  rows.resize(static_cast<size_t>(image.height));
  for (size_t y = 0; y < rows.size(); ++y) {
    rows[y] = image.pixels.data() + y * static_cast<size_t>(image.width) * image.channels;
  }
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

RasterImage decode_png(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) != 0) {
    throw std::runtime_error(what + ": not a PNG (no PNG signature)");
  }
  RasterImage image;
  std::vector<png_bytep> rows;
  PngFailure failure;
  if (!read_png_into(bytes, image, rows, failure)) {
    throw std::runtime_error(what + ": bad PNG: " + failure.message);
  }
  return image;
}

}  // namespace medtrain::metrics
