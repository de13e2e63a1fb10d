// medtrain pack: a manifest of DICOM files -> large shard files + metadata.json
// (data/shard/packer.h; the format is described in docs/shards.md); or, with
// -c, the JSONL reports of a data.dataset text experiment -> shards of token
// ids, tokenised as that experiment's training would (data/text/text_pack.h),
// or the JSONL dictation of a data.dataset speech one -> shards of 16 kHz PCM
// and target ids (data/audio/speech_pack.h).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "data/audio/speech_pack.h"
#include "data/io/output_lock.h"
#include "data/shard/packer.h"
#include "data/text/text_pack.h"
#include "trainer/cli/commands.h"
#include "trainer/config/config_loader.h"
#include "trainer/engine/task.h"
#include "trainer/engine/training_data.h"
#include "trainer/user_error.h"

namespace medtrain::cli {
namespace {

// The flags that describe DICOM packing: with -c they would be ignored, so
// they are refused instead.
constexpr const char* kImageFlags[] = {"--manifest", "--root", "--image-size", "--label-names",
                                       "--target",   "--volumes", "--compress"};

std::string splits_line(const std::map<std::string, uint64_t>& records_per_split) {
  std::string out;
  for (const auto& [split, n] : records_per_split) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", split, n);
  return out;
}

int pack_text(const config::Config& cfg, const std::string& out, uint64_t shard_bytes) {
  if (cfg.data.manifest.empty()) throw UserError("pack -c: data.manifest is empty (the JSONL file of reports to pack)");
  data::text::TextPackOptions o;
  o.dataset = engine::text_dataset_options(cfg, "");
  o.out = out;
  o.shard_bytes = shard_bytes;
  const data::io::OutputLock lock(o.out, "pack");
  const auto s = data::text::pack_text_dataset(o);
  fmt::print("packed {} reports ({}) into {} shards, {:.2f} MiB in {}; {} cut at data.max_length {}\n", s.records,
             splits_line(s.records_per_split), s.shards, static_cast<double>(s.bytes) / (1 << 20), o.out, s.truncated,
             o.dataset.max_length);
  return kExitOk;
}

int pack_speech(const config::Config& cfg, const std::string& out, uint64_t shard_bytes) {
  if (cfg.data.manifest.empty()) {
    throw UserError("pack -c: data.manifest is empty (the JSONL file of dictated audio to pack)");
  }
  data::audio::SpeechPackOptions o;
  o.dataset = engine::speech_dataset_options(cfg, "");
  o.out = out;
  o.shard_bytes = shard_bytes;
  const data::io::OutputLock lock(o.out, "pack");
  const auto s = data::audio::pack_speech_dataset(o);
  for (const auto& warning : s.warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
  fmt::print("packed {} utterances ({}), {:.1f} s of 16 kHz audio, into {} shards, {:.2f} MiB in {}\n", s.records,
             splits_line(s.records_per_split), s.seconds, s.shards, static_cast<double>(s.bytes) / (1 << 20), o.out);
  return kExitOk;
}

// pack -c: everything the records depend on comes from the experiment, so
// the pack and the run it feeds cannot disagree.
int pack_config(const CLI::App& cmd, const ConfigFlags& flags, const std::string& out, uint64_t shard_bytes,
                const std::string& on_error) {
  for (const char* flag : kImageFlags) {
    if (cmd.count(flag) > 0) {
      throw UserError(fmt::format("pack -c: {} is for DICOM manifests; a text or speech pack takes data.manifest, "
                                  "data.max_length, model.pretrained (and data.label_names for text) from the "
                                  "config (override with --set KEY=VALUE)",
                                  flag));
    }
  }
  if (on_error == "skip") {
    throw UserError("pack -c: --on-error skip is for DICOM files; a bad report or utterance line stops the pack, as "
                    "it stops training from the JSONL file");
  }
  const config::Config cfg = load_config_flags(flags, "pack");
  if (engine::is_text(cfg)) return pack_text(cfg, out, shard_bytes);
  if (engine::is_speech(cfg)) return pack_speech(cfg, out, shard_bytes);
  throw UserError("pack -c: packs the reports of a data.dataset text experiment or the dictation of a data.dataset "
                  "speech one (this one reads " +
                  cfg.data.dataset + "); pack DICOM files with --manifest");
}

}  // namespace

Command add_pack_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("pack", "pack the DICOM files of a manifest, or the reports of a text experiment "
                                         "or the dictation of a speech one (-c), into checksummed shards");
  auto flags = std::make_shared<ConfigFlags>();
  cmd->add_option("-c,--config", flags->file,
                  "a data.dataset text experiment: pack its data.manifest reports, tokenised with its "
                  "model.pretrained, data.max_length and data.label_names; or a data.dataset speech one: its "
                  "utterances as 16 kHz PCM with their target ids (train with data.shards set to --out)");
  cmd->add_option("--set", flags->overrides, "with -c: override a key, e.g. --set data.max_length=256 (repeatable)")
      ->type_name("KEY=VALUE");
  auto o = std::make_shared<data::shard::PackOptions>();
  auto shard_mb = std::make_shared<double>(64);
  o->workers = std::max(1u, std::thread::hardware_concurrency());
  cmd->add_option("--manifest", o->manifest, "CSV manifest: path,label|labels[,patient_id,split] (required without -c)");
  cmd->add_option("--root", o->root, "folder the manifest paths are relative to (default: the manifest's)");
  cmd->add_option("--out", o->out, "output folder (shards + metadata.json); an interrupted DICOM pack resumes")->required();
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
  return {cmd, [cmd, flags, o, shard_mb, on_error] {
            o->shard_bytes = static_cast<uint64_t>(*shard_mb * 1024 * 1024);
            if (!flags->file.empty()) return pack_config(*cmd, *flags, o->out, o->shard_bytes, *on_error);
            if (!flags->overrides.empty()) throw UserError("pack: --set needs -c CONFIG");
            if (o->manifest.empty()) throw UserError("pack: --manifest is required (or -c CONFIG for a text or speech experiment)");
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
