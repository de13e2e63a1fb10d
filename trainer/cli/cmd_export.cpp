// medtrain export --checkpoint C [--format safetensors,onnx] --out DIR [--overwrite]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <fmt/ranges.h>

#include <memory>

#include "trainer/cli/commands.h"
#include "trainer/export/export_bundle.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

Command add_export_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "write a verified checkpoint as an inference bundle (docs/export.md)");
  auto o = std::make_shared<exporter::ExportOptions>();
  auto formats = std::make_shared<std::string>("safetensors,onnx");
  auto checkpoint = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("--checkpoint", *checkpoint, "checkpoint: a step directory, ckpt/latest, or a run's ckpt folder")
      ->required();
  cmd->add_option("--format", *formats, "comma-separated: safetensors, onnx")->capture_default_str();
  cmd->add_option("--out", *out, "bundle folder to create (absent or empty)")->required();
  cmd->add_flag("--overwrite", o->overwrite, "replace an existing non-empty --out folder");
  return {cmd, [o, formats, checkpoint, out] {
            o->checkpoint = *checkpoint;
            o->out = *out;
            o->formats = exporter::parse_formats(*formats);
            const auto r = exporter::export_bundle(*o);
            fmt::print("exported {} (step {}, {}) to {}: {}\n", r.checkpoint.string(), r.card.step,
                       r.card.architecture, o->out.string(), fmt::join(r.files, ", "));
            for (const auto& note : r.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
            return kExitOk;
          }};
}

}  // namespace medtrain::cli
