#pragma once
// The layout of a ckpt folder:
//   step-<8+ digits>/   one complete checkpoint each (see checkpoint.h)
//   latest, best        symlinks with relative targets ("step-00000120")
//   .tmp-*              a save in progress, or the leftover of a crashed or
//                       failed one; never read, removed by remove_leftovers()
//                       (the next successful save, and the start of a run)
//   latest.tmp-<pid>    a symlink about to be renamed over `latest` (or a leftover)
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace medtrain::checkpoint {

constexpr const char* kLatestLink = "latest";
constexpr const char* kBestLink = "best";
constexpr const char* kTmpPrefix = ".tmp-";

std::string step_dir_name(int64_t step);                         // 12 -> "step-00000012"
std::optional<int64_t> parse_step_dir_name(const std::string& name);  // nullopt if not one

// (step, directory name) of every step directory, ascending by step.
std::vector<std::pair<int64_t, std::string>> list_step_dirs(const std::filesystem::path& ckpt_dir);

// The target of the symlink ckpt_dir/<link> as stored ("step-00000120");
// nullopt when there is no such symlink.
std::optional<std::string> read_pointer(const std::filesystem::path& ckpt_dir, const std::string& link);

// Removes every .tmp-* / latest.tmp-* / best.tmp-* leftover in ckpt_dir.
// Best effort: returns one "<path>: <reason>" per entry that could not be
// removed (empty when all went). Only the one process saving into ckpt_dir may
// call this (it would remove another writer's save in progress).
std::vector<std::string> remove_leftovers(const std::filesystem::path& ckpt_dir);

// Removes step directories other than the newest `keep_last` (by step number)
// and the `protect`ed names, and every .tmp-* / latest.tmp-* / best.tmp-*
// leftover. Only the one process saving into ckpt_dir may call this.
// Best effort: a removal that fails (on NFS a file still open elsewhere leaves
// .nfsXXXX entries behind until it is closed) is retried by the next call.
void prune(const std::filesystem::path& ckpt_dir, int64_t keep_last,
           const std::set<std::string>& protect);

}  // namespace medtrain::checkpoint
