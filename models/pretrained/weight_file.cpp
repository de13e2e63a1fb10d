#include "models/pretrained/weight_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "models/model_error.h"
#include "models/pretrained/torch_legacy_reader.h"
#include "models/pretrained/torch_zip_reader.h"

namespace medtrain::models::pretrained {

WeightFile read_weight_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ModelError("pretrained weights " + path.string() +
                     " is a directory; name the weights file (.pth, .pt, .safetensors) inside it");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError("cannot open pretrained weights " + path.string() + ": " + std::strerror(errno));
  std::string head(16, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  in.close();
  WeightFile out;
  const bool zip = head.compare(0, 4, "PK\x03\x04") == 0;
  if (zip || is_torch_legacy(head)) {
    out.format = zip ? "PyTorch zip" : "PyTorch legacy";
    std::string note;
    const std::string origin = "PyTorch file " + path.string();
    out.tensors = tensors_of_state_dict(zip ? read_torch_zip(path) : read_torch_legacy(path), origin, &note);
    if (!note.empty()) out.notes.push_back(note);
    return out;
  }
  out.format = "safetensors";
  out.tensors = load_safetensors(path).tensors;
  return out;
}

}  // namespace medtrain::models::pretrained
