// libFuzzer target for the shard reader (data/shard/shard_reader.h,
// shard_format.h): any byte string must either read or raise DataError, never
// crash, hang, over-allocate or read out of bounds (ASan/UBSan). Built by
// tests/fuzz/run_fuzz.sh; seeds are small shards written by
// tests/integration/shard_py.py.
//
// The first byte picks what the rest is: even = a whole shard file (index,
// every record through the checksum check and the decoder), odd = one record
// given straight to decode_record (the checksum would otherwise reject almost
// every mutation before the decoder sees it).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/shard/shard_format.h"
#include "data/shard/shard_reader.h"

namespace {

namespace shard = medtrain::data::shard;

std::string scratch_path() {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/medtrain_shard_fuzz_" + std::to_string(getpid()) + ".shard";
}

void touch(const shard::Record& r) {
  std::vector<float> pixels(static_cast<size_t>(r.depth) * r.rows * r.cols);
  shard::decode_pixels(r, pixels.data());
  volatile float sum = 0;
  for (const float v : pixels) sum = sum + v;
  for (const uint8_t m : r.mask) sum = sum + m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool record_only = (data[0] & 1) != 0;
  ++data;
  --size;
  try {
    if (record_only) {
      touch(shard::decode_record(data, size, "fuzz"));
      return 0;
    }
    static const std::string path = scratch_path();
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return 0;
    if (size > 0) std::fwrite(data, 1, size, f);
    std::fclose(f);
    shard::ShardReader reader(path);
    if (reader.size() > 0) {
      const shard::Block all = reader.read_block(0, reader.size());
      for (size_t i = 0; i < reader.size(); ++i) {
        try {
          const uint8_t* p = reader.checked_record(all, i);
          touch(shard::decode_record(p, reader.entry(i).length, reader.where(i)));
        } catch (const medtrain::data::DataError&) {
          // a bad record: the next one may still be fine
        }
      }
    }
  } catch (const medtrain::data::DataError&) {
    // the expected outcome for bad input
  }
  return 0;
}
