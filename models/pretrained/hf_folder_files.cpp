#include "models/pretrained/hf_folder_files.h"

#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <sstream>

#include "models/model_error.h"

namespace fs = std::filesystem;

namespace medtrain::models::pretrained {

namespace {
constexpr uint64_t kMaxConfigBytes = 1 << 20;
}  // namespace

std::string read_hf_config_text(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw ModelError(file.string() + ": missing (not a Hugging Face model folder?)");
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) > kMaxConfigBytes) {
    throw ModelError(file.string() + ": not a regular file of at most 1 MiB");
  }
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

fs::path hf_weights_file(const fs::path& dir) {
  for (const char* name : {"model.safetensors", "pytorch_model.bin"}) {
    if (fs::is_regular_file(dir / name)) return dir / name;
  }
  throw ModelError(dir.string() + ": no model.safetensors or pytorch_model.bin");
}

}  // namespace medtrain::models::pretrained
