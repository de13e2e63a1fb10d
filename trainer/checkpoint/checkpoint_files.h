#pragma once
// The files of one checkpoint directory (besides manifest.json, see manifest.h).
namespace medtrain::checkpoint {

constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kRngFile = "rng.safetensors";
constexpr const char* kStateFile = "trainer_state.json";
constexpr const char* kConfigFile = "config.yaml";

// Every one must be listed in the manifest for a checkpoint to load.
constexpr const char* kRequiredFiles[] = {kModelFile, kOptimizerFile, kRngFile, kStateFile, kConfigFile};

}  // namespace medtrain::checkpoint
