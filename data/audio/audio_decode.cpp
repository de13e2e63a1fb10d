#include "data/audio/audio_decode.h"

#include <fcntl.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "data/audio/audio_signal_checks.h"
#include "data/data_error.h"

namespace medtrain::data::audio {
namespace {

constexpr sf_count_t kBlockFrames = 16384;

// The bytes libsndfile reads: a memory span or a descriptor read with pread.
struct ByteSource {
  const uint8_t* memory = nullptr;
  int fd = -1;
  sf_count_t size = 0;
  sf_count_t pos = 0;
};

sf_count_t vio_length(void* user) { return static_cast<ByteSource*>(user)->size; }

sf_count_t vio_seek(sf_count_t offset, int whence, void* user) {
  auto* s = static_cast<ByteSource*>(user);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? s->pos : s->size;
  const sf_count_t to = base + offset;
  if (offset > 0 && to < base) return -1;  // overflow
  if (to < 0) return -1;
  s->pos = to;  // past the end is allowed, as for a file; reads there return 0
  return s->pos;
}

sf_count_t vio_read(void* ptr, sf_count_t count, void* user) {
  auto* s = static_cast<ByteSource*>(user);
  if (count <= 0 || s->pos >= s->size) return 0;
  const sf_count_t n = std::min(count, s->size - s->pos);
  if (s->memory) {
    std::memcpy(ptr, s->memory + s->pos, static_cast<size_t>(n));
    s->pos += n;
    return n;
  }
  sf_count_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(s->fd, static_cast<char*>(ptr) + done, static_cast<size_t>(n - done), s->pos);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    done += got;
    s->pos += got;
  }
  return done;
}

sf_count_t vio_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t vio_tell(void* user) { return static_cast<ByteSource*>(user)->pos; }

// The first bytes, read without moving the source.
std::string peek(ByteSource& s, size_t n) {
  std::string head(std::min<sf_count_t>(static_cast<sf_count_t>(n), s.size), '\0');
  const sf_count_t pos = s.pos;
  head.resize(static_cast<size_t>(vio_read(head.data(), static_cast<sf_count_t>(head.size()), &s)));
  s.pos = pos;
  return head;
}

bool known_container(const std::string& head) {
  for (const char* magic : {"RIFF", "RIFX", "RF64", "fLaC", "OggS"})
    if (head.compare(0, 4, magic) == 0) return true;
  return false;
}

void check_container(ByteSource& s, const std::string& name) {
  if (s.size == 0) throw DataError(fmt::format("{}: empty file (0 bytes), not audio", name));
  const std::string head = peek(s, 4);
  if (head.size() < 4 || !known_container(head)) {
    std::string shown;
    for (unsigned char c : head) shown += fmt::format("{:02x}", c);
    throw DataError(fmt::format("{}: not audio (expected a WAV, FLAC or Ogg file; it starts with 0x{})", name,
                                shown));
  }
}

std::string format_name(int format) {
  auto name_of = [](int f) {
    SF_FORMAT_INFO info{};
    info.format = f;
    if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof(info)) != 0 || !info.name)
      return fmt::format("0x{:x}", f);
    return std::string(info.name);
  };
  return name_of(format & SF_FORMAT_TYPEMASK) + ", " + name_of(format & SF_FORMAT_SUBMASK);
}

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using Sndfile = std::unique_ptr<SNDFILE, SndfileCloser>;

Sndfile open_checked(ByteSource& s, SF_INFO& info, const std::string& name) {
  SF_VIRTUAL_IO vio{vio_length, vio_seek, vio_read, vio_write, vio_tell};
  info = SF_INFO{};
  Sndfile f(sf_open_virtual(&vio, SFM_READ, &info, &s));
  if (!f) throw DataError(fmt::format("{}: cannot decode: {}", name, sf_strerror(nullptr)));
  const int major = info.format & SF_FORMAT_TYPEMASK;
  if (major != SF_FORMAT_WAV && major != SF_FORMAT_WAVEX && major != SF_FORMAT_RF64 && major != SF_FORMAT_FLAC &&
      major != SF_FORMAT_OGG)
    throw DataError(fmt::format("{}: unsupported container {} (WAV, FLAC and Ogg are read)", name,
                                format_name(info.format)));
  if (info.channels < 1 || info.channels > kMaxChannels)
    throw DataError(fmt::format("{}: {} channels (at most {} are read)", name, info.channels, kMaxChannels));
  if (info.samplerate < kMinSampleRate || info.samplerate > kMaxSampleRate)
    throw DataError(fmt::format("{}: sample rate {} Hz is outside [{}, {}]", name, info.samplerate, kMinSampleRate,
                                kMaxSampleRate));
  return f;
}

// Reads block by block: the header's frame count may be absent or a lie, so
// nothing is reserved from it.
DecodedAudio decode(ByteSource& s, const std::string& name, const DecodeLimits& limits) {
  check_container(s, name);
  SF_INFO info;
  Sndfile f = open_checked(s, info, name);
  DecodedAudio out;
  out.sample_rate = info.samplerate;
  out.channels = info.channels;
  out.format = format_name(info.format);
  const double max_frames_d = std::floor(limits.max_seconds * info.samplerate);
  const int64_t max_frames = max_frames_d > 9e18 ? INT64_MAX : static_cast<int64_t>(max_frames_d);
  const size_t ch = static_cast<size_t>(info.channels);
  std::vector<float> block(static_cast<size_t>(kBlockFrames) * ch);
  SignalChecks checks(info.channels);
  int64_t frames = 0;
  for (;;) {
    const sf_count_t got = sf_readf_float(f.get(), block.data(), kBlockFrames);
    if (got <= 0) break;
    if (frames + got > max_frames)
      throw DataError(fmt::format("{}: longer than the {:g} s limit", name, limits.max_seconds));
    checks.scan(block.data(), static_cast<size_t>(got), frames, info.samplerate, name);
    for (sf_count_t i = 0; i < got; ++i) {
      float sum = 0.0f;
      for (size_t c = 0; c < ch; ++c) sum += block[static_cast<size_t>(i) * ch + c];
      out.samples.push_back(ch == 1 ? sum : sum / static_cast<float>(ch));
    }
    frames += got;
  }
  if (sf_error(f.get()) != SF_ERR_NO_ERROR)
    throw DataError(fmt::format("{}: decode error after {:.3f} s: {}", name,
                                static_cast<double>(frames) / info.samplerate, sf_strerror(f.get())));
  if (frames == 0) throw DataError(fmt::format("{}: no audio samples ({}, zero length)", name, out.format));
  out.peak = checks.peak();
  out.clipped_samples = checks.clipped();
  // A FLAC's STREAMINFO holds its length; libsndfile stops quietly at a cut.
  const int64_t declared = info.frames == SF_COUNT_MAX ? 0 : info.frames;
  out.warnings = signal_warnings(name, out.peak, out.clipped_samples, static_cast<size_t>(frames) * ch, frames,
                                 declared);
  return out;
}

}  // namespace

DecodedAudio decode_audio_bytes(const uint8_t* data, size_t size, const std::string& name,
                                const DecodeLimits& limits) {
  ByteSource s;
  s.memory = data;
  s.size = static_cast<sf_count_t>(size);
  return decode(s, name, limits);
}

DecodedAudio decode_audio_file(const std::string& path, const DecodeLimits& limits) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (fstat refuses it next).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw DataError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw DataError(fmt::format("{}: not a regular file", path));
  ByteSource s;
  s.fd = fd;
  s.size = static_cast<sf_count_t>(st.st_size);
  return decode(s, path, limits);
}

}  // namespace medtrain::data::audio
