// The launcher's environment, as Open MPI's mpirun and Slurm's srun set it.
#include "trainer/dist/launch_env.h"

#include <gtest/gtest.h>

#include <map>

namespace medtrain::dist {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(LaunchEnv, PlainProcessIsNotLaunched) {
  EXPECT_FALSE(launched_by_mpi(env_of({})));
  EXPECT_FALSE(local_layout_from_env(env_of({})).has_value());
}

TEST(LaunchEnv, OpenMpi) {
  auto env = env_of({{"OMPI_COMM_WORLD_SIZE", "8"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "3"},
                     {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"}});
  EXPECT_TRUE(launched_by_mpi(env));
  auto l = local_layout_from_env(env);
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->local_rank, 3);
  EXPECT_EQ(l->local_size, 4);
}

TEST(LaunchEnv, SlurmSrun) {
  EXPECT_TRUE(launched_by_mpi(env_of({{"PMIX_RANK", "0"}})));
  EXPECT_TRUE(launched_by_mpi(env_of({{"SLURM_STEP_ID", "0"}, {"SLURM_NTASKS", "2"}})));
  // An sbatch script's own shell (no step) or a one-task step is not a parallel launch.
  EXPECT_FALSE(launched_by_mpi(env_of({{"SLURM_NTASKS", "2"}})));
  EXPECT_FALSE(launched_by_mpi(env_of({{"SLURM_STEP_ID", "0"}, {"SLURM_NTASKS", "1"}})));
  auto l = local_layout_from_env(env_of({{"SLURM_LOCALID", "1"}, {"SLURM_NTASKS_PER_NODE", "2"}}));
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->local_rank, 1);
  EXPECT_EQ(l->local_size, 2);
}

TEST(LaunchEnv, MalformedValuesFallBack) {
  for (const auto& [rank, size] : std::vector<std::pair<std::string, std::string>>{
           {"x", "4"}, {"1", ""}, {"4", "4"}, {"-1", "4"}, {"1", "0"}, {"2", "3junk"}}) {
    auto l = local_layout_from_env(
        env_of({{"OMPI_COMM_WORLD_LOCAL_RANK", rank}, {"OMPI_COMM_WORLD_LOCAL_SIZE", size}}));
    EXPECT_FALSE(l.has_value()) << rank << "/" << size;
  }
}

}  // namespace
}  // namespace medtrain::dist
