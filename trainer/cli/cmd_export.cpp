// medtrain export --checkpoint C [--format safetensors,onnx] --out DIR [--overwrite]
// medtrain export --whisper DIR  [--format safetensors,onnx] --out DIR [--overwrite]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <fmt/ranges.h>

#include <memory>

#include "trainer/asr/whisper_folder.h"
#include "trainer/cli/commands.h"
#include "trainer/export/export_bundle.h"
#include "trainer/export/whisper_bundle.h"
#include "trainer/user_error.h"

namespace medtrain::cli {
namespace {

// A pretrained Whisper folder (CTranslate2 or Hugging Face, as `medtrain
// transcribe --model` reads) -> a Whisper bundle (whisper_bundle.h).
int export_whisper_folder(const std::string& dir, const exporter::ExportOptions& o) {
  asr::WhisperFolder w = asr::load_whisper_folder(dir);
  exporter::WhisperExportOptions options;
  options.formats = o.formats;
  options.overwrite = o.overwrite;
  options.source = std::filesystem::absolute(dir).lexically_normal().string();
  const auto r = exporter::export_whisper_bundle(w.model, dir, o.out, options);
  fmt::print("exported {} (whisper, {} folder) to {}: {}\n", dir, w.layout, o.out.string(), fmt::join(r.files, ", "));
  for (const auto& note : w.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  return kExitOk;
}

}  // namespace

Command add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "write a verified checkpoint as an inference bundle (docs/export.md)");
  auto o = std::make_shared<exporter::ExportOptions>();
  auto formats = std::make_shared<std::string>("safetensors,onnx");
  auto checkpoint = std::make_shared<std::string>();
  auto whisper = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* ckpt_opt =
      cmd->add_option("--checkpoint", *checkpoint, "checkpoint: a step directory, ckpt/latest, or a run's ckpt folder");
  auto* whisper_opt = cmd->add_option(
      "--whisper", *whisper, "instead of --checkpoint: a Whisper model folder (CTranslate2 or Hugging Face)");
  ckpt_opt->excludes(whisper_opt);
  whisper_opt->excludes(ckpt_opt);
  cmd->add_option("--format", *formats, "comma-separated: safetensors, onnx")->capture_default_str();
  cmd->add_option("--out", *out, "bundle folder to create (absent or empty)")->required();
  cmd->add_flag("--overwrite", o->overwrite, "replace an existing non-empty --out folder");
  return {cmd, [o, formats, checkpoint, whisper, out] {
            if (checkpoint->empty() && whisper->empty()) throw UserError("export: pass --checkpoint or --whisper");
            o->out = *out;
            o->formats = exporter::parse_formats(*formats);
            if (!whisper->empty()) return export_whisper_folder(*whisper, *o);
            o->checkpoint = *checkpoint;
            const auto r = exporter::export_bundle(*o);
            fmt::print("exported {} (step {}, {}) to {}: {}\n", r.checkpoint.string(), r.card.step,
                       r.card.architecture, o->out.string(), fmt::join(r.files, ", "));
            for (const auto& note : r.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
            return kExitOk;
          }};
}

}  // namespace medtrain::cli
