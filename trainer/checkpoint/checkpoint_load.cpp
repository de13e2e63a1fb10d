// Loading checkpoints: finding the directory a path means, verifying every
// file against the manifest, parsing. Each file is read once and its bytes are
// both checked and parsed, so what was verified is what gets loaded.
#include <cerrno>
#include <cstring>

#include "models/model_error.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/checkpoint/checkpoint.h"
#include "trainer/checkpoint/checkpoint_dir.h"
#include "trainer/checkpoint/checkpoint_files.h"
#include "trainer/checkpoint/manifest.h"
#include "trainer/checkpoint/sha256.h"
#include "trainer/checkpoint/trainer_state_json.h"

namespace medtrain::checkpoint {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxLinkDepth = 8;  // symlink loops end here instead of recursing forever

std::string where(const fs::path& dir) { return "checkpoint " + dir.string(); }

// A step directory, a symlink to one (latest, best), or a ckpt folder (then its
// `latest`) -> the step directory, spelled through the given path so that
// messages read like what the user typed ("runs/x/ckpt/step-00000010").
fs::path resolve_dir(const fs::path& path, int depth = 0) {
  std::error_code ec;
  const auto status = fs::symlink_status(path, ec);
  if (!fs::exists(status)) throw CheckpointError(where(path) + ": no such file or directory");
  if (depth > kMaxLinkDepth) throw CheckpointError(where(path) + ": too many levels of symbolic links");
  if (fs::is_symlink(status)) {
    const fs::path target = fs::read_symlink(path, ec);
    const fs::path resolved = target.is_absolute() ? target : path.parent_path() / target;
    if (ec || !fs::exists(fs::symlink_status(resolved, ec))) {
      throw CheckpointError(where(path) + ": points to " + target.string() + ", which does not exist");
    }
    return resolve_dir(resolved, depth + 1);
  }
  if (!fs::is_directory(status)) {
    throw CheckpointError(where(path) + ": not a directory; not a medtrain checkpoint");
  }
  if (fs::exists(path / kManifestFile, ec)) return path;
  if (fs::exists(fs::symlink_status(path / kLatestLink, ec))) return resolve_dir(path / kLatestLink, depth + 1);
  std::string hint;
  if (!list_step_dirs(path).empty()) {
    hint = "; it holds step-* directories but no `latest`: name one of them";
  }
  throw CheckpointError(where(path) + ": not a medtrain checkpoint (no " + kManifestFile + ")" + hint);
}

Manifest read_manifest(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir / kManifestFile, ec)) {
    throw CheckpointError(where(dir) + ": not a medtrain checkpoint (no " + kManifestFile + ")");
  }
  Manifest manifest = parse_manifest(read_file(dir / kManifestFile), where(dir));
  for (const char* required : kRequiredFiles) {
    if (manifest.count(required) == 0) {
      throw CheckpointError(where(dir) + ": " + kManifestFile + " does not list " + required +
                            "; refusing to load");
    }
  }
  return manifest;
}

std::string read_verified(const fs::path& dir, const Manifest& manifest, const std::string& name) {
  const ManifestEntry& entry = manifest.at(name);
  const fs::path file = dir / name;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw CheckpointError(where(dir) + ": " + name + " is missing; refusing to load");
  }
  std::string bytes;
  try {
    bytes = read_file(file);
  } catch (const CheckpointError& e) {
    throw CheckpointError(where(dir) + ": " + e.what() + "; refusing to load");
  }
  if (bytes.size() != entry.size) {
    throw CheckpointError(where(dir) + ": " + name + " is " + std::to_string(bytes.size()) +
                          " bytes but the manifest says " + std::to_string(entry.size) +
                          " (truncated or changed); refusing to load");
  }
  if (sha256_hex(bytes) != entry.sha256) {
    throw CheckpointError(where(dir) + ": " + name +
                          " fails its SHA-256 check (file changed or corrupt); refusing to load");
  }
  return bytes;
}

models::NamedTensors parse_tensors(const fs::path& dir, const Manifest& manifest, const char* name) {
  const std::string bytes = read_verified(dir, manifest, name);
  try {
    return models::parse_safetensors(bytes, (dir / name).string()).tensors;
  } catch (const models::ModelError& e) {
    throw CheckpointError(where(dir) + ": " + e.what());
  }
}

bool is_required(const std::string& name) {
  for (const char* required : kRequiredFiles) {
    if (name == required) return true;
  }
  return false;
}

}  // namespace

void verify_checkpoint(const std::filesystem::path& path) {
  const fs::path dir = resolve_dir(path);
  const Manifest manifest = read_manifest(dir);
  for (const auto& [name, entry] : manifest) read_verified(dir, manifest, name);
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  const fs::path dir = resolve_dir(path);
  const Manifest manifest = read_manifest(dir);
  // Files a newer writer may add are not parsed, but they must be intact too.
  for (const auto& [name, entry] : manifest) {
    if (!is_required(name)) read_verified(dir, manifest, name);
  }
  Checkpoint ckpt;
  ckpt.model = parse_tensors(dir, manifest, kModelFile);
  ckpt.optimizer = parse_tensors(dir, manifest, kOptimizerFile);
  ckpt.rng = parse_tensors(dir, manifest, kRngFile);
  std::string config_sha256;
  ckpt.state = parse_trainer_state(read_verified(dir, manifest, kStateFile),
                                   where(dir) + ": " + kStateFile, &config_sha256);
  ckpt.config_yaml = read_verified(dir, manifest, kConfigFile);
  if (sha256_hex(ckpt.config_yaml) != config_sha256) {
    throw CheckpointError(where(dir) + ": " + kConfigFile + " does not match the config_sha256 in " +
                          kStateFile + "; refusing to load");
  }
  return ckpt;
}

std::optional<std::filesystem::path> resolve_resume(const std::string& resume,
                                                    const std::filesystem::path& ckpt_dir) {
  std::error_code ec;
  if (resume.empty()) return std::nullopt;
  if (resume == "auto") {
    if (fs::exists(fs::symlink_status(ckpt_dir / kLatestLink, ec))) {
      try {
        return resolve_dir(ckpt_dir / kLatestLink);
      } catch (const CheckpointError& e) {
        throw CheckpointError(std::string("--resume auto: ") + e.what());
      }
    }
    // No `latest` but complete step directories: a crash after step 2 of
    // Note [Save order] (checkpoint.cpp) and before step 3. Resume from the
    // newest of them rather than start over and overwrite them.
    const auto steps = list_step_dirs(ckpt_dir);
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
      if (fs::exists(ckpt_dir / it->second / kManifestFile, ec)) return ckpt_dir / it->second;
    }
    return std::nullopt;
  }
  const fs::path path(resume);
  if (!fs::exists(fs::symlink_status(path, ec))) {
    throw CheckpointError("--resume " + resume + ": no such checkpoint");
  }
  try {
    const fs::path dir = resolve_dir(path);
    read_manifest(dir);  // a directory that is not a checkpoint fails here, before training starts
    return dir;
  } catch (const CheckpointError& e) {
    throw CheckpointError("--resume " + resume + ": " + e.what());
  }
}

}  // namespace medtrain::checkpoint
