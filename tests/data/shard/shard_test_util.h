#pragma once
// Helpers shared by the shard tests: a small synthetic DICOM set, packing it,
// and byte-level file surgery for the corruption cases.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "data/shard/packer.h"
#include "data/dicom/synthetic_dicom.h"
#include "tests/common/temp_dir.h"
#include "tests/data/test_files.h"

namespace medtrain::data::shard::testing {

// 24 slices of 32x32 from 6 patients (all three transfer syntaxes), in dir/dicom.
inline std::string make_dicom_set(const medtrain::testing::TempDir& dir, size_t count = 24) {
  SyntheticOptions o;
  o.out_dir = dir.str("dicom");
  o.count = count;
  o.patients = 6;
  o.image_size = 32;
  o.val_fraction = 0.34;
  return write_synthetic_dataset(o).manifest_path;
}

using medtrain::data::testing::error_of;  // the DataError message `f` throws, or "(no error)"

inline PackOptions pack_options(const std::string& manifest, const std::string& out) {
  PackOptions p;
  p.manifest = manifest;
  p.out = out;
  p.shard_bytes = 8 << 10;  // a few records per shard: several shards per split
  p.workers = 2;
  return p;
}

inline std::vector<char> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::filesystem::path& p, const std::vector<char>& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Every regular file of a folder: name -> bytes.
inline std::vector<std::pair<std::string, std::vector<char>>> folder_bytes(const std::string& dir) {
  std::vector<std::pair<std::string, std::vector<char>>> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.emplace_back(e.path().filename().string(), read_bytes(e.path()));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace medtrain::data::shard::testing
