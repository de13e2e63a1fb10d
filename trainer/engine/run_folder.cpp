#include "trainer/engine/run_folder.h"

#include <fmt/format.h>

#include "data/io/user_file.h"
#include "trainer/checkpoint/checkpoint_dir.h"
#include "trainer/user_error.h"

namespace fs = std::filesystem;

namespace medtrain::engine {

void claim_run_folder(const fs::path& run_dir, const std::string& resume, bool overwrite) {
  std::error_code ec;
  const fs::path ckpt = run_dir / "ckpt";
  const bool has_checkpoints = !checkpoint::list_step_dirs(ckpt).empty() ||
                               fs::exists(fs::symlink_status(ckpt / checkpoint::kLatestLink, ec));
  if (!has_checkpoints || !resume.empty()) return;
  if (!overwrite) {
    throw UserError(fmt::format("run folder {} already holds checkpoints of an earlier run; continue it with "
                                "--resume auto, start over with --overwrite (deletes them), or choose another "
                                "run.name",
                                data::io::display_path(run_dir.string())));
  }
  for (const char* name : {"ckpt", "tensorboard", "metrics.jsonl", "config.yaml"}) fs::remove_all(run_dir / name);
  for (const auto& entry : fs::directory_iterator(run_dir)) {
    if (entry.path().filename().string().rfind("timeline-rank", 0) == 0) fs::remove(entry.path());
  }
}

}  // namespace medtrain::engine
