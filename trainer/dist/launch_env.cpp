#include "trainer/dist/launch_env.h"

#include <cstdlib>

namespace medtrain::dist {

namespace {

std::optional<int> as_int(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  char* end = nullptr;
  const long v = std::strtol(text->c_str(), &end, 10);
  if (*end != '\0' || v < 0 || v > 1 << 20) return std::nullopt;
  return static_cast<int>(v);
}

std::optional<LocalLayout> checked(std::optional<int> rank, std::optional<int> size) {
  if (!rank || !size || *size < 1 || *rank >= *size) return std::nullopt;
  return LocalLayout{*rank, *size};
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

bool launched_by_mpi(const EnvLookup& env) {
  if (env("OMPI_COMM_WORLD_SIZE") || env("PMIX_RANK") || env("PMI_RANK")) return true;
  // srun without an MPI plugin still starts one task per rank.
  const auto ntasks = as_int(env("SLURM_NTASKS"));
  return env("SLURM_STEP_ID").has_value() && ntasks && *ntasks > 1;
}

std::optional<LocalLayout> local_layout_from_env(const EnvLookup& env) {
  if (auto l = checked(as_int(env("OMPI_COMM_WORLD_LOCAL_RANK")), as_int(env("OMPI_COMM_WORLD_LOCAL_SIZE")))) {
    return l;
  }
  // Only set when the job asked for a uniform --ntasks-per-node; otherwise the
  // caller falls back to a shared-memory split.
  if (auto l = checked(as_int(env("SLURM_LOCALID")), as_int(env("SLURM_NTASKS_PER_NODE")))) return l;
  return std::nullopt;
}

}  // namespace medtrain::dist
