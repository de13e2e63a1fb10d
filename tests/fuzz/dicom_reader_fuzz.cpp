// libFuzzer target for the DICOM reader (data/dicom/dicom_decode.h): any byte string
// must either decode or raise DataError, never crash, hang, leak or read out of
// bounds (ASan/UBSan). Built by tests/fuzz/run_fuzz.sh; see docs/dicom.md.
//
// The reader takes a path (DCMTK reads files), so each input is written to a
// per-process file in /dev/shm (tmpfs: no disk I/O per run).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/dicom/dicom_decode.h"

namespace {

std::string scratch_path() {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/medtrain_dicom_fuzz_" + std::to_string(getpid()) + ".dcm";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
  std::vector<float> pixels;
  try {
    const medtrain::data::DicomImageInfo info =
        medtrain::data::decode_dicom(path, [&](const std::vector<int64_t>& shape) {
          int64_t n = 1;
          for (const int64_t d : shape) n *= d;
          pixels.assign(static_cast<size_t>(n), 0.0f);
          return pixels.data();
        });
    // Touch every value so that uninitialised or short output shows up.
    volatile float sum = 0;
    for (const float v : pixels) sum = sum + v;
    (void)info;
  } catch (const medtrain::data::DataError&) {
    // the expected outcome for bad input
  }
  return 0;
}
