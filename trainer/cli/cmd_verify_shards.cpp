// medtrain verify-shards DIR (or --dir DIR): reads every record of a pack, checks every
// checksum, reports problems and the streaming throughput (data/shard/shard_verify.h).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

#include "data/io/user_file.h"
#include "data/shard/shard_verify.h"
#include "trainer/cli/commands.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

Command add_verify_shards_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("verify-shards", "check every record and file checksum of a pack; report MB/s");
  auto o = std::make_shared<data::shard::VerifyOptions>();
  auto block_mb = std::make_shared<double>(4);
  // A positional DIR (as the README shows) or --dir DIR: one CLI11 option with both names.
  cmd->add_option("dir,--dir", o->dir, "folder made by `medtrain pack`")->required();
  cmd->add_option("--block-mb", *block_mb, "bytes of consecutive records per read")->capture_default_str()
      ->check(CLI::Range(0.001, 4096.0));
  cmd->add_flag("!--no-sha256", o->check_sha256, "skip the whole-file SHA-256 (records are still checked)");
  cmd->add_flag("!--no-decode", o->decode, "check record CRCs only (pure streaming throughput)");
  return {cmd, [o, block_mb] {
            o->block_bytes = static_cast<uint64_t>(*block_mb * (1 << 20));
            const auto r = data::shard::verify_shards(*o);
            for (const auto& p : r.problems) fmt::print("{}\n", p);
            const double mib = static_cast<double>(r.bytes) / (1 << 20);
            fmt::print("{} shards, {} records, {:.1f} MiB in {:.3f} s ({:.1f} MiB/s): {} bad records, {} bad files\n",
                       r.shards, r.records, mib, r.seconds, r.seconds > 0 ? mib / r.seconds : 0.0, r.bad_records,
                       r.bad_files);
            if (r.bad_records + r.bad_files > 0) {
              throw UserError(fmt::format("verify-shards {}: {} bad records and {} bad files (listed above)",
                                          data::io::display_path(o->dir),
                                          r.bad_records, r.bad_files));
            }
            return kExitOk;
          }};
}

}  // namespace medtrain::cli
