#pragma once
// The files every Hugging Face model folder has, whatever the model: its small
// JSON configs and its weights file. models/nlu (BERT) and models/asr
// (Whisper) read their folders through these.
#include <filesystem>
#include <string>

namespace medtrain::models::pretrained {

// The text of config.json or generation_config.json. ModelError for a missing
// file, or anything but a regular file of at most 1 MiB (a FIFO would block).
std::string read_hf_config_text(const std::filesystem::path& file);

// model.safetensors, else pytorch_model.bin; ModelError naming `dir` if neither.
std::filesystem::path hf_weights_file(const std::filesystem::path& dir);

}  // namespace medtrain::models::pretrained
