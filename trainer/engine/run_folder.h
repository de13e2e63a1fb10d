#pragma once
// Note [A run folder has one run]: a fresh `train` into a folder whose ckpt/
// holds checkpoints used to merge two runs (config.yaml replaced, metrics.jsonl
// mixed, `best` still the old run's, and a later resume overwrote the old run's
// checkpoint of the same step). Now it is refused, or with --overwrite the old
// run's files are removed first; --resume continues it. The main rank calls
// this while it holds the run folder's lock (data/io/output_lock.h).
#include <filesystem>
#include <string>

namespace medtrain::engine {

// `resume`: the --resume value ("" for a fresh run). Throws UserError naming the
// folder and the ways on when a fresh run meets checkpoints without `overwrite`.
void claim_run_folder(const std::filesystem::path& run_dir, const std::string& resume, bool overwrite);

}  // namespace medtrain::engine
