#include "data/dicom/dicom_guarded_read.h"

#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcistrmf.h>
#include <pthread.h>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace medtrain::data {

// Code 0x7E01: far above dcmdata's own codes (under 0x0100).
const OFConditionConst kNestingBudgetExceeded = {
    OFM_dcmdata, 0x7E01, OF_error,
    "sequences nested too deeply for the parser's stack budget (malformed or hostile file)"};

namespace {

constexpr uintptr_t kMaxBudget = uintptr_t{1} << 20;

uintptr_t stack_pointer() { return reinterpret_cast<uintptr_t>(__builtin_frame_address(0)); }

// Lowest address of this thread's stack (it grows down on every target we build
// for). pthread_getattr_np reads /proc/self/maps for the main thread, so the
// answer is kept per thread.
uintptr_t stack_low() {
  thread_local uintptr_t low = [] {
    pthread_attr_t attr;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstack(&attr, &addr, &size);
      pthread_attr_destroy(&attr);
    }
    return reinterpret_cast<uintptr_t>(addr);
  }();
  return low;
}

// A DCMTK input stream (file or buffer) whose status turns bad once the parse
// has used its budget of stack below the point where it started.
template <class Stream>
class StackGuarded final : public Stream {
 public:
  template <class... Args>
  explicit StackGuarded(Args&&... args) : Stream(std::forward<Args>(args)...), start_(stack_pointer()) {
    const uintptr_t low = stack_low();
    // Unknown bounds (low == 0): assume the smallest stack we ever run on, 1 MiB.
    const uintptr_t left = low != 0 && start_ > low ? start_ - low : kMaxBudget;
    budget_ = std::min(left / 2, kMaxBudget);
  }

  OFBool good() const override { return !exhausted() && Stream::good(); }
  OFCondition status() const override { return exhausted() ? OFCondition(kNestingBudgetExceeded) : Stream::status(); }

 private:
  bool exhausted() const {
    if (!tripped_) {
      const uintptr_t here = stack_pointer();
      tripped_ = here < start_ && start_ - here > budget_;
    }
    return tripped_;
  }
  const uintptr_t start_;
  uintptr_t budget_ = 0;
  mutable bool tripped_ = false;
};

// What DcmFileFormat::loadFile does after opening its stream.
OFCondition read_stream(DcmFileFormat& file, DcmInputStream& stream, E_FileReadMode mode, Uint32 max_read_length) {
  OFCondition cond = stream.status();
  if (cond.bad()) return cond;
  cond = file.clear();
  if (cond.bad()) return cond;
  const E_FileReadMode old_mode = file.getReadMode();
  file.setReadMode(mode);
  file.transferInit();
  cond = file.read(stream, EXS_Unknown, EGL_noChange, max_read_length);
  file.transferEnd();
  file.setReadMode(old_mode);
  return cond;
}

}  // namespace

OFCondition load_dicom_guarded(DcmFileFormat& file, const std::string& path, E_FileReadMode mode,
                               Uint32 max_read_length) {
  StackGuarded<DcmInputFileStream> stream{OFFilename(path.c_str())};
  return read_stream(file, stream, mode, max_read_length);
}

OFCondition read_dicom_guarded(DcmFileFormat& file, const char* data, size_t size, Uint32 max_read_length) {
  StackGuarded<DcmInputBufferStream> stream;
  stream.setBuffer(data, static_cast<offile_off_t>(size));
  stream.setEos();
  return read_stream(file, stream, ERM_autoDetect, max_read_length);
}

}  // namespace medtrain::data
