#include "data/dicom/dicom_j2k.h"

#include <openjpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "data/data_error.h"

namespace medtrain::data {
namespace {

struct MemoryStream {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

OPJ_SIZE_T read_fn(void* buffer, OPJ_SIZE_T n, void* user) {
  auto* m = static_cast<MemoryStream*>(user);
  const size_t left = m->size - m->pos;
  if (left == 0) return static_cast<OPJ_SIZE_T>(-1);  // OpenJPEG's end-of-stream
  const size_t k = std::min<size_t>(n, left);
  std::memcpy(buffer, m->data + m->pos, k);
  m->pos += k;
  return k;
}

OPJ_OFF_T skip_fn(OPJ_OFF_T n, void* user) {
  auto* m = static_cast<MemoryStream*>(user);
  if (n < 0) {
    const size_t back = std::min<size_t>(static_cast<size_t>(-n), m->pos);
    m->pos -= back;
    return -static_cast<OPJ_OFF_T>(back);
  }
  const size_t k = std::min<size_t>(static_cast<size_t>(n), m->size - m->pos);
  m->pos += k;
  return static_cast<OPJ_OFF_T>(k);
}

OPJ_BOOL seek_fn(OPJ_OFF_T pos, void* user) {
  auto* m = static_cast<MemoryStream*>(user);
  if (pos < 0 || static_cast<size_t>(pos) > m->size) return OPJ_FALSE;
  m->pos = static_cast<size_t>(pos);
  return OPJ_TRUE;
}

// OpenJPEG reports through callbacks; we keep the last error for the exception
// and drop warnings and info (libraries do not print).
void keep_error(const char* msg, void* user) {
  auto* text = static_cast<std::string*>(user);
  *text = msg;
  while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
}
void ignore_message(const char*, void*) {}

struct CodecDeleter {
  void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageDeleter {
  void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};

bool is_jp2_file(const uint8_t* d, size_t n) {
  static const uint8_t kSignature[12] = {0, 0, 0, 0x0c, 'j', 'P', ' ', ' ', 0x0d, 0x0a, 0x87, 0x0a};
  return n >= 12 && std::memcmp(d, kSignature, 12) == 0;
}

}  // namespace

J2kFrame decode_j2k_frame(const uint8_t* data, size_t size, int64_t rows, int64_t cols, int components,
                          const std::string& where) {
  auto fail = [&](const std::string& what) { throw DataError(where + ": JPEG 2000 " + what); };
  if (size < 2) fail("frame is empty");
  MemoryStream mem{data, size, 0};
  std::unique_ptr<opj_stream_t, StreamDeleter> stream(opj_stream_default_create(OPJ_TRUE));
  opj_stream_set_user_data(stream.get(), &mem, nullptr);
  opj_stream_set_user_data_length(stream.get(), size);
  opj_stream_set_read_function(stream.get(), read_fn);
  opj_stream_set_skip_function(stream.get(), skip_fn);
  opj_stream_set_seek_function(stream.get(), seek_fn);

  std::unique_ptr<opj_codec_t, CodecDeleter> codec(
      opj_create_decompress(is_jp2_file(data, size) ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
  std::string error = "decoder failed";
  opj_set_error_handler(codec.get(), keep_error, &error);
  opj_set_warning_handler(codec.get(), ignore_message, nullptr);
  opj_set_info_handler(codec.get(), ignore_message, nullptr);
  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  if (!opj_setup_decoder(codec.get(), &params)) fail("decoder setup failed: " + error);

  opj_image_t* raw_image = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw_image)) fail("header unreadable: " + error);
  std::unique_ptr<opj_image_t, ImageDeleter> image(raw_image);
  // Check the size before decoding: a corrupt header must not make us allocate
  // what the DICOM header never promised.
  const int64_t w = static_cast<int64_t>(image->x1) - image->x0;
  const int64_t h = static_cast<int64_t>(image->y1) - image->y0;
  if (w != cols || h != rows || static_cast<int>(image->numcomps) != components) {
    fail("codestream is " + std::to_string(w) + "x" + std::to_string(h) + " with " +
         std::to_string(image->numcomps) + " components, but the DICOM header says " + std::to_string(cols) + "x" +
         std::to_string(rows) + " with " + std::to_string(components));
  }
  if (!opj_decode(codec.get(), stream.get(), image.get()) || !opj_end_decompress(codec.get(), stream.get())) {
    fail("decoding failed: " + error);
  }
  J2kFrame out;
  out.rows = rows;
  out.cols = cols;
  out.components = components;
  out.planes.resize(static_cast<size_t>(rows * cols * components));
  for (int c = 0; c < components; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    if (comp.dx != 1 || comp.dy != 1 || comp.w != static_cast<OPJ_UINT32>(cols) ||
        comp.h != static_cast<OPJ_UINT32>(rows) || comp.data == nullptr) {
      fail("component " + std::to_string(c) + " is subsampled or empty (not supported)");
    }
    std::memcpy(out.planes.data() + c * rows * cols, comp.data, static_cast<size_t>(rows * cols) * sizeof(int32_t));
  }
  return out;
}

}  // namespace medtrain::data
