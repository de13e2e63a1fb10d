// libFuzzer target for the manifests: the image CSV (data/manifest.h) and the
// report JSONL (data/text/text_manifest.h, on data/text/jsonl.h, which the
// dictation manifest shares). Any file must either be read or raise
// DataError naming the manifest and line, never crash, hang or let another
// exception escape. Built by tests/fuzz/run_fuzz.sh; seeds are small
// manifests (tests/fuzz/parser_seeds.py).
//
// The first byte picks the reader and its options: bit 0 = CSV (0) or JSONL
// (1); bit 1 = with label names; bit 2 = a split filter. Files are not looked
// up (check_files off): the fuzzer judges the text, not the disk.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "data/data_error.h"
#include "data/manifest.h"
#include "data/text/text_manifest.h"

namespace data = medtrain::data;

namespace {

std::string scratch_path() {
  const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/medtrain_manifest_fuzz_" + std::to_string(getpid());
}

const std::vector<std::string> kNames = {"normal", "effusion", "nodule", "NAME"};

void read_csv(const std::string& path, uint8_t mode) {
  data::ManifestOptions o;
  o.manifest_path = path;
  o.check_files = false;
  if (mode & 2) o.label_names = kNames;
  if (mode & 4) o.split = "train";
  const data::Manifest m = data::read_manifest(o);
  for (const auto& r : m.rows) {
    if (r.path.empty() || r.line == 0 || r.label < 0) __builtin_trap();
    if ((mode & 4) && r.split != "train") __builtin_trap();
  }
}

void read_jsonl(const std::string& path, uint8_t mode) {
  data::text::TextManifestOptions o;
  o.path = path;
  if (mode & 2) o.label_names = kNames;
  if (mode & 4) o.split = "train";
  const data::text::TextManifest m = data::text::read_text_manifest(o);
  for (const auto& r : m.rows) {
    if (r.id.empty() || r.line == 0) __builtin_trap();
    int64_t previous_end = 0;
    for (const auto& s : r.spans) {  // sorted, never overlapping, inside the text
      if (s.start < previous_end || s.end <= s.start || static_cast<size_t>(s.end) > r.text.size()) __builtin_trap();
      previous_end = s.end;
    }
  }
}

}  // namespace

// The CSV reader asks whether a path is a multi-frame DICOM volume only when it
// checks files; check_files is off here, so reaching this is a bug.
namespace medtrain::data {
bool is_multiframe_volume(const std::string&) { __builtin_trap(); }
}  // namespace medtrain::data

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = bytes[0];
  static const std::string path = scratch_path();
  const std::string file = path + ((mode & 1) ? ".jsonl" : ".csv");
  FILE* f = std::fopen(file.c_str(), "wb");
  if (f == nullptr) return 0;
  if (size > 1) std::fwrite(bytes + 1, 1, size - 1, f);
  std::fclose(f);
  try {
    if (mode & 1) {
      read_jsonl(file, mode);
    } else {
      read_csv(file, mode);
    }
  } catch (const data::DataError&) {
    // the expected outcome for bad input
  }
  std::remove(file.c_str());
  return 0;
}
