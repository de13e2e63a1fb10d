#pragma once
// Checkpoints: one directory per step under <run>/ckpt/, e.g.
//   ckpt/step-00000120/{model.safetensors, optimizer.safetensors,
//                       trainer_state.json, config.yaml, manifest.json}
// written under a temporary name, every file and the directory fsynced, then
// renamed into place; ckpt/latest is a symlink replaced atomically (rename), so
// a half-written checkpoint never becomes `latest`. manifest.json holds the
// SHA-256 and size of every file; loading verifies them and refuses a
// checkpoint that fails (CheckpointError, a UserError: exit 2).
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "models/safetensors.h"
#include "trainer/checkpoint/trainer_state.h"

namespace medtrain::checkpoint {

struct Checkpoint {
  models::NamedTensors model;      // parameters then buffers, state_dict names
  models::NamedTensors optimizer;  // "<param name>.<state>" e.g. "fc.weight.exp_avg"
  models::NamedTensors rng;        // generator states as uint8 tensors, e.g. "cpu"
  TrainerState state;
  std::string config_yaml;         // resolved config of the run that wrote it
};

struct RetentionPolicy {
  int64_t keep_last = 3;           // newest N step directories kept
  bool keep_best = true;           // plus the best by metric
  bool higher_is_better = true;
};

// One process (rank 0) saves into a ckpt_dir; save() also removes .tmp-*
// leftovers there, which would include another writer's save in progress.
// The best so far is read back from the `best` checkpoint on disk, so it
// survives restarts even when the caller's TrainerState does not carry it.
class CheckpointManager {
 public:
  CheckpointManager(std::filesystem::path ckpt_dir, RetentionPolicy policy);

  // Writes step-<8 digits>/ atomically, points `latest` at it, updates best
  // (when `metric` is given and better), prunes by the policy. Returns its path.
  // A write error (a full disk, EIO) throws CheckpointError naming the file and
  // the system's reason; `latest` then still names the previous checkpoint and
  // the partial one is removed (Note [A failed save] in checkpoint.cpp).
  std::filesystem::path save(const Checkpoint& ckpt, std::optional<double> metric);
  std::optional<std::filesystem::path> latest() const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  RetentionPolicy policy_;
};

// Loads and verifies a checkpoint directory (or the `latest` symlink / a run's
// ckpt folder). Any missing file, size or checksum mismatch -> CheckpointError.
Checkpoint load_checkpoint(const std::filesystem::path& path);

// Checks the manifest only; throws CheckpointError naming the first bad file.
void verify_checkpoint(const std::filesystem::path& dir);

// `--resume auto|PATH`: auto -> ckpt_dir/latest if it exists, else nullopt
// (fresh start); PATH -> that checkpoint, CheckpointError when it is not one.
// "" -> nullopt. The path returned is the step directory itself (latest
// resolved), so that logs name the step. One refinement of "auto": with no
// `latest` but complete step directories (a crash between renaming one into
// place and updating `latest`), the newest of them is returned rather than
// starting over and overwriting them.
std::optional<std::filesystem::path> resolve_resume(const std::string& resume,
                                                    const std::filesystem::path& ckpt_dir);

}  // namespace medtrain::checkpoint
