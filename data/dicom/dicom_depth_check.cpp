#include "data/dicom/dicom_depth_check.h"

#include <dcmtk/dcmdata/dctag.h>
#include <dcmtk/dcmdata/dcvr.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace medtrain::data {
namespace {

constexpr uint32_t kUndefined = 0xFFFFFFFFu;
constexpr uint64_t kOpenEnded = UINT64_MAX;  // a frame of undefined length

// Forward-only bytes: the scan reads tags and lengths and skips values.
class Source {
 public:
  virtual ~Source() = default;
  // Up to n bytes; fewer only at the end of the data.
  virtual size_t read(char* out, size_t n) = 0;
  // Skips up to n bytes; returns how many were skipped (fewer only at the end).
  virtual uint64_t skip(uint64_t n) = 0;
};

class MemorySource final : public Source {
 public:
  MemorySource(const char* data, size_t size) : data_(data), size_(size) {}
  size_t read(char* out, size_t n) override {
    n = std::min(n, size_ - pos_);
    std::memcpy(out, data_ + pos_, n);
    pos_ += n;
    return n;
  }
  uint64_t skip(uint64_t n) override {
    n = std::min<uint64_t>(n, size_ - pos_);
    pos_ += static_cast<size_t>(n);
    return n;
  }

 private:
  const char* data_;
  size_t size_, pos_ = 0;
};

// Reads through a 64 KiB window; skips past it by offset alone (no read).
class FileSource final : public Source {
 public:
  FileSource(int fd, uint64_t size) : fd_(fd), size_(size), buf_(1 << 16) {}
  size_t read(char* out, size_t n) override {
    size_t done = 0;
    while (done < n) {
      if (at_ == len_ && !refill()) break;
      const size_t k = std::min(n - done, len_ - at_);
      std::memcpy(out + done, buf_.data() + at_, k);
      at_ += k;
      done += k;
    }
    return done;
  }
  uint64_t skip(uint64_t n) override {
    const uint64_t in_buffer = std::min<uint64_t>(n, len_ - at_);
    at_ += static_cast<size_t>(in_buffer);
    const uint64_t rest = n - in_buffer;
    if (rest == 0) return n;
    // The window is used up: next_ is the file offset where reading resumes.
    const uint64_t skipped = std::min(rest, size_ > next_ ? size_ - next_ : 0);
    next_ += skipped;
    return in_buffer + skipped;
  }

 private:
  bool refill() {
    if (next_ >= size_) return false;
    ssize_t n;
    do {
      n = ::pread(fd_, buf_.data(), buf_.size(), static_cast<off_t>(next_));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;  // a read error ends the scan; DCMTK reports it
    next_ += static_cast<uint64_t>(n);
    at_ = 0;
    len_ = static_cast<size_t>(n);
    return true;
  }
  int fd_;
  uint64_t size_, next_ = 0;
  std::vector<char> buf_;
  size_t at_ = 0, len_ = 0;
};

// A few bytes already read (a peeked tag), then the rest.
class PrefixSource final : public Source {
 public:
  PrefixSource(std::string prefix, Source& rest) : prefix_(std::move(prefix)), rest_(rest) {}
  size_t read(char* out, size_t n) override {
    const size_t k = std::min(n, prefix_.size() - used_);
    std::memcpy(out, prefix_.data() + used_, k);
    used_ += k;
    return k + (n > k ? rest_.read(out + k, n - k) : 0);
  }
  uint64_t skip(uint64_t n) override {
    const uint64_t k = std::min<uint64_t>(n, prefix_.size() - used_);
    used_ += static_cast<size_t>(k);
    return k + (n > k ? rest_.skip(n - k) : 0);
  }

 private:
  std::string prefix_;
  size_t used_ = 0;
  Source& rest_;
};

// Deflated Explicit VR Little Endian: the data set is a raw deflate stream
// (RFC 1951, as DCMTK reads it by default).
class InflateSource final : public Source {
 public:
  explicit InflateSource(Source& raw) : raw_(raw), in_(1 << 16) {
    ok_ = ::inflateInit2(&zs_, -MAX_WBITS) == Z_OK;
  }
  ~InflateSource() override {
    if (ok_) ::inflateEnd(&zs_);
  }
  size_t read(char* out, size_t n) override {
    size_t done = 0;
    while (ok_ && !ended_ && done < n) {
      if (zs_.avail_in == 0) {
        zs_.avail_in = static_cast<uInt>(raw_.read(in_.data(), in_.size()));
        zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
        if (zs_.avail_in == 0) break;  // truncated stream
      }
      zs_.next_out = reinterpret_cast<Bytef*>(out + done);
      zs_.avail_out = static_cast<uInt>(std::min<size_t>(n - done, 1u << 30));
      const int rc = ::inflate(&zs_, Z_NO_FLUSH);
      done = static_cast<size_t>(reinterpret_cast<char*>(zs_.next_out) - out);
      if (rc == Z_STREAM_END) ended_ = true;
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) break;  // corrupt: DCMTK reports it
    }
    return done;
  }
  uint64_t skip(uint64_t n) override {
    char scratch[1 << 14];
    uint64_t done = 0;
    while (done < n) {
      const size_t got = read(scratch, static_cast<size_t>(std::min<uint64_t>(sizeof(scratch), n - done)));
      if (got == 0) break;
      done += got;
    }
    return done;
  }

 private:
  Source& raw_;
  std::vector<char> in_;
  z_stream zs_{};
  bool ok_ = false, ended_ = false;
};

struct Encoding {
  bool explicit_vr = true;
  bool big_endian = false;
};

uint16_t u16(const char* p, bool big) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return big ? static_cast<uint16_t>(b[0] << 8 | b[1]) : static_cast<uint16_t>(b[1] << 8 | b[0]);
}

uint32_t u32(const char* p, bool big) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return big ? (uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3])
             : (uint32_t{b[3]} << 24 | uint32_t{b[2]} << 16 | uint32_t{b[1]} << 8 | b[0]);
}

bool is_vr(const char* v, const char* name) { return v[0] == name[0] && v[1] == name[1]; }

bool valid_vr(const char* v) {
  static const char* const kVRs[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT",
                                     "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST",
                                     "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV"};
  for (const char* vr : kVRs) {
    if (is_vr(v, vr)) return true;
  }
  return false;
}

struct Header {
  DcmEVR evr = EVR_UNKNOWN;
  uint32_t len = 0;
};

// Note [Reading as DCMTK reads]: the VR and length of an element exactly as
// DcmItem::readTagAndLength (DCMTK 3.6.7, default global flags) reads them. In
// explicit VR the VR bytes decide, whatever the dictionary says; an unknown VR
// of upper-case letters is a "future" VR with a 4-byte length after 2 reserved
// bytes, any other unknown VR has a 2-byte length. In implicit VR the
// dictionary decides. A model that differed here let a fuzzer hide thousands of
// levels behind an unknown VR (Note [Stack budget] is the backstop).
// `read(out, n)` returns whether all n bytes were there.
template <class Read>
bool read_header(Read&& read, uint16_t g, uint16_t e, Encoding enc, Header& h) {
  char lb[4];
  if (!enc.explicit_vr || DcmTag(g, e).getEVR() == EVR_na) {
    h.evr = enc.explicit_vr ? EVR_na : DcmTag(g, e).getEVR();
    if (!read(lb, 4)) return false;
    h.len = u32(lb, enc.big_endian);
    return true;
  }
  char vr[3] = {0, 0, 0};
  if (!read(vr, 2)) return false;
  h.evr = DcmVR(vr).getEVR();
  if (h.evr == EVR_na) {
    if (!read(lb, 4)) return false;
    h.len = u32(lb, enc.big_endian);
  } else if (DcmVR(h.evr).usesExtendedLengthEncoding()) {
    if (!read(lb, 2) || !read(lb, 4)) return false;
    h.len = u32(lb, enc.big_endian);
  } else {
    if (!read(lb, 2)) return false;
    h.len = u16(lb, enc.big_endian);
  }
  return true;
}

// Note [Declared lengths]: DCMTK allocates a value's declared length before it
// reads it; a 9 KB file declaring 3 GB made it allocate 3 GB (found by the
// fuzzer). A value that runs past the end by a little is an ordinary
// truncation, which DCMTK reports; by more than kMaxShortfall, it is refused here.
// The File Meta Information is held to the same rule (a parse from a memory
// buffer would load its values eagerly too).
std::optional<std::string> overlong(uint16_t g, uint16_t e, uint64_t declared, uint64_t present, uint64_t at) {
  constexpr uint64_t kMaxShortfall = uint64_t{64} << 20;
  if (declared - present <= kMaxShortfall) return std::nullopt;
  char tag[16];
  std::snprintf(tag, sizeof(tag), "(%04X,%04X)", g, e);
  return std::string("element ") + tag + " at byte " + std::to_string(at) + " declares " +
         std::to_string(declared) + " bytes but only " + std::to_string(present) +
         " follow (truncated or corrupt)";
}

class Scanner {
 public:
  Scanner(Source& src, int limit) : src_(src), limit_(limit) { stack_.reserve(2 * static_cast<size_t>(limit) + 4); }

  // The data set from the current position to the end.
  std::optional<std::string> run(Encoding base) {
    while (true) {
      while (!stack_.empty() && stack_.back().end != kOpenEnded && pos_ >= stack_.back().end) pop();
      const Encoding enc = stack_.empty() ? base : stack_.back().enc;
      char head[4];
      if (!read(head, 4)) return std::nullopt;  // the end (or a truncation): every level present was seen
      const uint16_t g = u16(head, enc.big_endian), e = u16(head + 2, enc.big_endian);
      if (g == 0xFFFE && (e == 0xE000 || e == 0xE00D || e == 0xE0DD)) {
        if (auto problem = delimiter(e, enc)) return problem;
        if (stopped_) return std::nullopt;
        continue;
      }
      Header h;
      if (!read_header([this](char* out, size_t n) { return read(out, n); }, g, e, enc, h)) return std::nullopt;
      if (auto problem = element(g, e, enc, h)) return problem;
      if (stopped_) return std::nullopt;
    }
  }

 private:
  // What DcmItem::newDicomElement makes of the element: a sequence, flat pixel
  // fragments, or a value to skip.
  std::optional<std::string> element(uint16_t g, uint16_t e, Encoding enc, Header h) {
    const bool pixel_data = g == 0x7FE0 && e == 0x0010;
    const bool unknown = h.evr == EVR_UN || h.evr == EVR_UNKNOWN || h.evr == EVR_UNKNOWN2B;
    if (h.evr == EVR_SQ) return push_sequence(h.len, enc);
    if (h.len == kUndefined) {
      // UN (and unknown VRs) of undefined length: a sequence in implicit VR
      // little endian (CP-246, PS3.5 6.2.2).
      if (unknown) return push_sequence(h.len, Encoding{false, false});
      if (pixel_data || h.evr == EVR_OB || h.evr == EVR_OW || h.evr == EVR_ox || h.evr == EVR_px) {
        stack_.push_back({Kind::kPixels, kOpenEnded, enc});  // fragments: flat, no nesting
        return std::nullopt;
      }
      // DCMTK fails on any other VR of undefined length; read on as a sequence,
      // which can only count more levels than DCMTK would reach.
      return push_sequence(h.len, enc);
    }
    // A private element in implicit VR is a sequence when DCMTK's private
    // dictionary says so for its creator, which this scan does not track: a value
    // that starts with an item is scanned as a sequence.
    if (!enc.explicit_vr && (g & 1) && e >= 0x1000 && h.len >= 8) {
      const uint64_t at = pos_;
      char head[4];
      if (!read(head, 4)) {
        stopped_ = true;
        return std::nullopt;
      }
      if (u16(head, enc.big_endian) == 0xFFFE && u16(head + 2, enc.big_endian) == 0xE000) {
        if (auto problem = push_sequence(h.len, enc, at)) return problem;
        return delimiter(0xE000, enc);
      }
      const uint64_t from = pos_;
      stopped_ = !skip(h.len - 4);
      return stopped_ ? overlong(g, e, h.len, pos_ - from + 4, at) : std::nullopt;
    }
    return skip_value(g, e, h.len);
  }

  enum class Kind { kSequence, kItem, kPixels };
  struct Frame {
    Kind kind;
    uint64_t end;  // kOpenEnded: closed by a delimiter
    Encoding enc;  // of the elements inside
  };

  // A sequence whose value starts at `start` (default: here).
  std::optional<std::string> push_sequence(uint32_t len, Encoding enc, uint64_t start = UINT64_MAX) {
    if (start == UINT64_MAX) start = pos_;
    if (++depth_ > limit_) {
      return "sequences nested more than " + std::to_string(limit_) + " levels deep (at byte " +
             std::to_string(pos_) +
             " of the data set); real files rarely nest more than 10, so this file is malformed or hostile and is "
             "not parsed";
    }
    stack_.push_back({Kind::kSequence, len == kUndefined ? kOpenEnded : start + len, enc});
    return std::nullopt;
  }

  void pop() {
    if (stack_.back().kind == Kind::kSequence) --depth_;
    stack_.pop_back();
  }

  bool top_is(Kind kind) const { return !stack_.empty() && stack_.back().kind == kind; }

  bool open_ended(Kind kind) const {
    return !stack_.empty() && stack_.back().kind == kind && stack_.back().end == kOpenEnded;
  }

  // (FFFE,eeee): items and delimiters. Sets stopped_ where the data ends.
  std::optional<std::string> delimiter(uint16_t e, Encoding enc) {
    char lb[4];
    if (!read(lb, 4)) {
      stopped_ = true;
      return std::nullopt;
    }
    const uint32_t len = u32(lb, enc.big_endian);
    if (e == 0xE000) {
      if (!stack_.empty() && stack_.back().kind == Kind::kPixels) {
        if (len == kUndefined) return std::string("a pixel data fragment of undefined length: not valid DICOM");
        if (auto problem = skip_value(0xFFFE, e, len)) return problem;
      } else if (!stack_.empty() && stack_.back().kind == Kind::kSequence) {
        stack_.push_back({Kind::kItem, len == kUndefined ? kOpenEnded : pos_ + len, enc});
      } else if (len == kUndefined) {
        return "an item of undefined length outside any sequence (at byte " + std::to_string(pos_) +
               " of the data set): not valid DICOM";
      } else {
        if (auto problem = skip_value(0xFFFE, e, len)) return problem;  // a stray item: skipped whole
      }
    } else if (e == 0xE00D) {
      // DCMTK ends an item at its delimiter even when the item declared a length;
      // elsewhere the delimiter is ignored or fails the parse.
      if (top_is(Kind::kItem)) pop();
    } else {  // (FFFE,E0DD)
      if (open_ended(Kind::kItem)) pop();  // a missing item delimiter: the sequence ends both
      // ...and a sequence ends at it even when it declared a length, as in DCMTK.
      if (top_is(Kind::kSequence) || top_is(Kind::kPixels)) pop();
    }
    return std::nullopt;
  }

  // Skips a value of `len` bytes; sets stopped_ at the end of the data, and
  // refuses a length far past it (Note [Declared lengths]).
  std::optional<std::string> skip_value(uint16_t g, uint16_t e, uint32_t len) {
    const uint64_t at = pos_;
    stopped_ = !skip(len);
    return stopped_ ? overlong(g, e, len, pos_ - at, at) : std::nullopt;
  }

  bool read(char* out, size_t n) {
    const size_t got = src_.read(out, n);
    pos_ += got;
    return got == n;
  }
  bool skip(uint64_t n) {
    const uint64_t got = src_.skip(n);
    pos_ += got;
    return got == n;
  }

  Source& src_;
  const int limit_;
  int depth_ = 0;
  uint64_t pos_ = 0;
  bool stopped_ = false;
  std::vector<Frame> stack_;
};

std::string trim_uid(std::string s) {
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ')) s.pop_back();
  return s;
}

// A bare data set (no Part 10 header): the encoding is guessed from its first
// element, as DCMTK guesses it.
Encoding guess_encoding(const char* head, size_t n) {
  Encoding enc;
  if (n < 6) return enc;
  enc.big_endian = head[0] == 0 && head[1] != 0;
  enc.explicit_vr = valid_vr(head + 4);
  return enc;
}

std::optional<std::string> scan(Source& src, int limit) {
  char preamble[132];
  const size_t got = src.read(preamble, sizeof(preamble));
  if (got < sizeof(preamble) || std::memcmp(preamble + 128, "DICM", 4) != 0) {
    // A bare data set: scan it from its first byte.
    PrefixSource all(std::string(preamble, got), src);
    Scanner scanner(all, limit);
    return scanner.run(guess_encoding(preamble, got));
  }
  // The File Meta Information, explicit VR little endian. Note [Meta as DCMTK
  // reads it]: with a group length (0002,0000) first, DCMTK reads every element
  // that starts within that many bytes, whatever its group (a fuzzer hid the
  // deflated syntax UID behind a foreign tag there, and the scan read deflated
  // bytes as plain ones); without one, it reads while the tags are group 0002.
  std::string syntax;
  std::string peeked;
  uint64_t consumed = 0, meta_end = UINT64_MAX;  // bytes after the group length element; its value
  uint64_t pos = sizeof(preamble);                // byte offset in the file, for messages
  auto read = [&](char* out, size_t k) {
    const size_t n = src.read(out, k);
    consumed += n;
    pos += n;
    return n == k;
  };
  for (bool first = true;; first = false) {
    if (meta_end != UINT64_MAX && consumed >= meta_end) break;
    const uint64_t at = pos;
    char head[4];
    if (!read(head, 4)) return std::nullopt;
    const uint16_t g = u16(head, false), e = u16(head + 2, false);
    if (meta_end == UINT64_MAX && g != 0x0002) {
      peeked.assign(head, 4);
      break;
    }
    Header h;
    if (!read_header(read, g, e, Encoding{}, h)) return std::nullopt;
    const uint32_t len = h.len;
    // DCMTK reads the meta group as it reads any item: a sequence there would
    // nest unscanned. PS3.10 has none.
    if (h.evr == EVR_SQ) return std::string("a sequence in the File Meta Information: not valid DICOM");
    if (len == kUndefined) return std::string("a File Meta Information element of undefined length: not valid DICOM");
    if (g == 0x0002 && (e == 0x0010 || (first && e == 0x0000 && len == 4)) && len <= 64) {
      std::string value(len, '\0');
      if (!read(value.data(), len)) return std::nullopt;
      if (e == 0x0010) {
        syntax = trim_uid(value);
      } else {
        meta_end = u32(value.data(), false);
        consumed = 0;
      }
    } else {
      const uint64_t got = src.skip(len);
      consumed += got;
      pos += got;
      if (got < len) return overlong(g, e, len, got, at);
    }
  }
  if (syntax == "1.2.840.10008.1.2.1.99") {
    PrefixSource rest(peeked, src);
    InflateSource inflated(rest);
    Scanner scanner(inflated, limit);
    return scanner.run({true, false});
  }
  Encoding enc;  // explicit VR little endian: also every encapsulated syntax
  if (syntax == "1.2.840.10008.1.2") enc = {false, false};
  if (syntax == "1.2.840.10008.1.2.2") enc = {true, true};
  // Known means known to DCMTK, exactly: a damaged UID that merely starts like
  // one (a fuzzer's "1.2.840.10008.1.2.1.;9") makes DCMTK guess, and so must we.
  if (syntax.rfind("1.2.840.10008.1.2", 0) != 0 || DcmXfer(syntax.c_str()).getXfer() == EXS_Unknown) {
    // A missing or unknown syntax: guessed from the first element's VR bytes.
    char vr[2];
    const size_t n = src.read(vr, 2);
    peeked.append(vr, n);
    enc.explicit_vr = n < 2 || valid_vr(vr);
  }
  PrefixSource rest(peeked, src);
  Scanner scanner(rest, limit);
  return scanner.run(enc);
}

}  // namespace

std::optional<std::string> check_sequence_depth(const char* data, size_t size, int limit) {
  MemorySource src(data, size);
  return scan(src, limit);
}

std::optional<std::string> check_sequence_depth_file(const std::string& path, int limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::nullopt;
  }
  FileSource src(fd, static_cast<uint64_t>(st.st_size));
  auto problem = scan(src, limit);
  ::close(fd);
  return problem;
}

}  // namespace medtrain::data
