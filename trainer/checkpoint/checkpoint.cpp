// Saving checkpoints: CheckpointManager. Loading is in checkpoint_load.cpp.
//
// Note [Save order] Each step is durable before the next makes it visible:
//   1. every file written into ckpt/.tmp-step-XXXXXXXX-<pid>/ and fsynced,
//      manifest.json last, then the directory fsynced;
//   2. the directory renamed to step-XXXXXXXX (an existing one, e.g. from an
//      earlier attempt at the same step, is first renamed away to a .tmp-
//      name and removed afterwards), and ckpt/ fsynced;
//   3. `latest` replaced atomically (symlink under a temporary name, renamed
//      over it), then `best` the same way when this checkpoint is the best;
//   4. pruning. A crash at any point leaves `latest` at a complete checkpoint;
//      leftovers of the crash are .tmp-* names that nothing reads and the
//      next save removes.
//
// Note [A failed save] A write error in steps 1-3 (ENOSPC, EIO, ...) leaves
// `latest` where it was: the .tmp- folder is removed, and so is a step folder
// renamed into place that `latest` (and `best`) do not name, so a full disk
// gets its space back at once. The removal is best effort: what cannot be
// removed is said in the error and removed by the next save or run start.
#include "trainer/checkpoint/checkpoint.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "models/model_error.h"
#include "trainer/checkpoint/atomic_file.h"
#include "trainer/checkpoint/checkpoint_dir.h"
#include "trainer/checkpoint/checkpoint_files.h"
#include "trainer/checkpoint/manifest.h"
#include "trainer/checkpoint/sha256.h"
#include "trainer/checkpoint/trainer_state_json.h"

namespace medtrain::checkpoint {
namespace {

namespace fs = std::filesystem;

std::string pid_string() { return std::to_string(::getpid()); }

void rename_or_throw(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw CheckpointError("cannot rename " + from.string() + " to " + to.string() + ": " +
                          std::strerror(errno));
  }
}

std::string encode_tensors(const models::NamedTensors& tensors, const char* file) {
  try {
    return models::safetensors_bytes(tensors, {{"format", "pt"}});
  } catch (const models::ModelError& e) {
    throw CheckpointError(std::string("cannot save ") + file + ": " + e.what());
  }
}

// Step 1 of Note [Save order].
void write_files(const fs::path& tmp, const Checkpoint& ckpt, const TrainerState& state) {
  Manifest manifest;
  const auto put = [&](const char* name, const std::string& bytes) {
    write_file_synced(tmp / name, bytes);
    manifest[name] = {sha256_hex(bytes), bytes.size()};
  };
  put(kModelFile, encode_tensors(ckpt.model, kModelFile));
  put(kOptimizerFile, encode_tensors(ckpt.optimizer, kOptimizerFile));
  put(kRngFile, encode_tensors(ckpt.rng, kRngFile));
  put(kStateFile, trainer_state_json(state, sha256_hex(ckpt.config_yaml)));
  put(kConfigFile, ckpt.config_yaml);
  write_file_synced(tmp / kManifestFile, manifest_json(manifest));
  fsync_directory(tmp);
}

// Step 2 of Note [Save order].
void install(const fs::path& tmp, const fs::path& ckpt_dir, const std::string& name) {
  const fs::path final_dir = ckpt_dir / name;
  std::error_code ec;
  if (fs::exists(fs::symlink_status(final_dir, ec))) {
    const fs::path old = ckpt_dir / (kTmpPrefix + std::string("replaced-") + name + "-" + pid_string());
    std::filesystem::remove_all(old, ec);
    rename_or_throw(final_dir, old);
    try {
      rename_or_throw(tmp, final_dir);
    } catch (const CheckpointError&) {
      ::rename(old.c_str(), final_dir.c_str());  // put the earlier one back: `latest` may name it
      throw;
    }
    fsync_directory(ckpt_dir);
    std::filesystem::remove_all(old, ec);  // best effort; the next prune retries
  } else {
    rename_or_throw(tmp, final_dir);
    fsync_directory(ckpt_dir);
  }
}

struct Best {
  std::optional<double> metric;
  std::string name;
};

// The best so far: what the `best` checkpoint on disk recorded about itself,
// which stays right across restarts; else what the caller's state carries
// (e.g. restored from a checkpoint whose `best` was removed by hand).
Best current_best(const fs::path& ckpt_dir, const TrainerState& caller) {
  if (const auto target = read_pointer(ckpt_dir, kBestLink)) {
    const std::string name = fs::path(*target).filename().string();
    try {
      const auto state = parse_trainer_state(read_file(ckpt_dir / name / kStateFile), name, nullptr);
      if (state.best_metric) return {state.best_metric, name};
    } catch (const CheckpointError&) {
      // Unreadable (removed or damaged by hand): the caller's view below.
    }
  }
  return {caller.best_metric, caller.best_checkpoint};
}

// Note [A failed save]: returns "" when everything went, else what is left.
std::string abandon_save(const fs::path& ckpt_dir, const fs::path& tmp, const std::string& name, bool installed) {
  std::vector<fs::path> remove = {tmp};
  if (installed && read_pointer(ckpt_dir, kLatestLink) != name && read_pointer(ckpt_dir, kBestLink) != name) {
    remove.push_back(ckpt_dir / name);
  }
  std::string left;
  for (const auto& path : remove) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    if (ec) left += "; could not remove the partial checkpoint " + path.string() + ": " + ec.message();
  }
  return left;
}

bool is_better(double metric, const std::optional<double>& best, bool higher_is_better) {
  if (std::isnan(metric)) return false;
  if (!best || std::isnan(*best)) return true;
  return higher_is_better ? metric > *best : metric < *best;
}

}  // namespace

CheckpointManager::CheckpointManager(std::filesystem::path ckpt_dir, RetentionPolicy policy)
    : dir_(std::move(ckpt_dir)), policy_(policy) {
  if (policy_.keep_last < 1) {
    throw CheckpointError("checkpoint.keep_last: expected at least 1, got " +
                          std::to_string(policy_.keep_last));
  }
}

std::filesystem::path CheckpointManager::save(const Checkpoint& ckpt, std::optional<double> metric) {
  if (ckpt.state.step < 0) {
    throw CheckpointError("cannot save a checkpoint at step " + std::to_string(ckpt.state.step));
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw CheckpointError("cannot create checkpoint folder " + dir_.string() + ": " + ec.message());
  const std::string name = step_dir_name(ckpt.state.step);

  TrainerState state = ckpt.state;
  Best best = current_best(dir_, state);
  const bool replacing_best = best.name == name;  // its old content is about to go
  if (replacing_best) best = {};
  const bool new_best = policy_.keep_best && metric && is_better(*metric, best.metric, policy_.higher_is_better);
  if (new_best) best = {metric, name};
  state.best_metric = best.metric;
  state.best_checkpoint = best.name;

  const fs::path tmp = dir_ / (kTmpPrefix + name + "-" + pid_string());
  bool installed = false;
  try {
    std::filesystem::remove_all(tmp, ec);
    fs::create_directory(tmp);
    write_files(tmp, ckpt, state);
    install(tmp, dir_, name);
    installed = true;
    replace_symlink(dir_ / kLatestLink, name);
  } catch (const fs::filesystem_error& e) {
    throw CheckpointError("cannot write checkpoint " + tmp.string() + ": " + e.code().message() +
                          abandon_save(dir_, tmp, name, installed));
  } catch (const CheckpointError& e) {
    throw CheckpointError(e.what() + abandon_save(dir_, tmp, name, installed));
  } catch (...) {
    abandon_save(dir_, tmp, name, installed);
    throw;
  }
  if (new_best) {
    replace_symlink(dir_ / kBestLink, name);
  } else if (replacing_best) {
    fs::remove(dir_ / kBestLink, ec);  // it would name content that is not the best
    fsync_directory(dir_);
  }

  std::set<std::string> protect = {name};
  for (const char* link : {kLatestLink, kBestLink}) {
    if (const auto target = read_pointer(dir_, link)) protect.insert(fs::path(*target).filename().string());
  }
  prune(dir_, policy_.keep_last, protect);
  return dir_ / name;
}

std::optional<std::filesystem::path> CheckpointManager::latest() const {
  const auto target = read_pointer(dir_, kLatestLink);
  if (!target) return std::nullopt;
  const fs::path path = fs::path(*target).is_absolute() ? fs::path(*target) : dir_ / *target;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return std::nullopt;
  return path;
}

}  // namespace medtrain::checkpoint
