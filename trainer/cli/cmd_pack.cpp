// medtrain pack: a manifest of DICOM files -> large shard files + metadata.json
// (data/shard/packer.h; the format is described in docs/shards.md).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>
#include <thread>

#include "data/io/output_lock.h"
#include "data/shard/packer.h"
#include "trainer/cli/commands.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

Command add_pack_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("pack", "pack the DICOM files of a manifest into checksummed shards");
  auto o = std::make_shared<data::shard::PackOptions>();
  auto shard_mb = std::make_shared<double>(64);
  o->workers = std::max(1u, std::thread::hardware_concurrency());
  cmd->add_option("--manifest", o->manifest, "CSV manifest: path,label|labels[,patient_id,split]")->required();
  cmd->add_option("--root", o->root, "folder the manifest paths are relative to (default: the manifest's)");
  cmd->add_option("--out", o->out, "output folder (shards + metadata.json); an interrupted pack resumes")->required();
  cmd->add_option("--shard-mb", *shard_mb, "target shard size in MiB")->capture_default_str()->check(CLI::Range(0.01, 65536.0));
  cmd->add_option("--compress", o->compression, "record compression: zstd | none")
      ->capture_default_str()->check(CLI::IsMember({"zstd", "none"}));
  cmd->add_option("--workers", o->workers, "decode threads (the output does not depend on it)")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--image-size", o->image_size,
                  "resize (in modality units) to SxS when packing; 0 keeps the stored size, which keeps "
                  "training bit-identical to training on the files")
      ->capture_default_str()->check(CLI::Range(0, 16384));
  cmd->add_option("--label-names", o->label_names, "names of labels 0, 1, ... for metadata.json")->delimiter(',');
  cmd->add_option("--target", o->target,
                  "what records hold for training: class (the manifest's label column), multilabel (its labels "
                  "column as a bit set; names resolved with --label-names) or mask (the file of its mask "
                  "column, for segmentation)")
      ->capture_default_str()->check(CLI::IsMember({"class", "multilabel", "mask"}));
  cmd->add_flag("--volumes", o->volumes,
                "manifest paths are series folders: pack each as one volume (for data.depth > 0)");
  auto on_error = std::make_shared<std::string>("fail");
  cmd->add_option("--on-error", *on_error,
                  "a file that cannot be read or decoded: fail (stop, naming it) | skip (leave it out, listed in "
                  "metadata.json)")
      ->capture_default_str()->check(CLI::IsMember({"fail", "skip"}));
  return {cmd, [o, shard_mb, on_error] {
            o->shard_bytes = static_cast<uint64_t>(*shard_mb * 1024 * 1024);
            o->on_error = *on_error == "skip" ? data::shard::PackOnError::kSkip : data::shard::PackOnError::kFail;
            // Two packs into one folder would each remove the other's shards as leftovers.
            const data::io::OutputLock lock(o->out, "pack");
            const auto s = data::shard::pack_dataset(*o);
            fmt::print("packed {} records into {} shards ({} kept from an earlier run, {} written), {:.1f} MiB in {}\n",
                       s.records, s.shards_kept + s.shards_written, s.shards_kept, s.shards_written,
                       static_cast<double>(s.bytes) / (1 << 20), o->out);
            if (!s.skipped.empty()) {
              fmt::print("skipped {} files that could not be packed (listed in {}/metadata.json, \"skipped\"):\n",
                         s.skipped.size(), o->out);
              for (const auto& f : s.skipped) fmt::print("  {}:{}: {}: {}\n", o->manifest, f.line, f.path, f.error);
            }
            return kExitOk;
          }};
}

}  // namespace medtrain::cli
