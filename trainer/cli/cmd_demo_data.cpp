// medtrain demo-data --out DIR: synthetic CT-like DICOM with a learnable finding.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

#include "data/synthetic_dicom.h"
#include "trainer/cli/commands.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

Command add_demo_data_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "demo-data", "write synthetic CT-like DICOM slices (lesion present/absent) and a manifest");
  auto o = std::make_shared<data::SyntheticOptions>();
  auto syntaxes = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--out", o->out_dir, "output folder (images/ and manifest.csv)")->required();
  cmd->add_option("--count", o->count, "number of images")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--patients", o->patients, "number of patients")->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--size", o->image_size, "rows = columns")->capture_default_str()->check(CLI::Range(16, 4096));
  cmd->add_option("--seed", o->seed, "random seed")->capture_default_str();
  cmd->add_option("--positive-fraction", o->positive_fraction, "share with a lesion")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--val-fraction", o->val_fraction, "share of patients in the val split")
      ->capture_default_str()->check(CLI::Range(0.0, 0.9));
  cmd->add_flag("--multilabel", o->multilabel,
                "a lesion in each lung independently; manifest column labels (right_lung_lesion|left_lung_lesion)");
  cmd->add_flag("--masks", o->masks, "write lesion masks (.npy, uint8) and a manifest column mask");
  cmd->add_flag("--volumes", o->volumes,
                "one manifest row per patient: its series folder, the lesion a sphere (3D models, data.depth)");
  cmd->add_option("--transfer-syntax", *syntaxes,
                  "cycle through these: explicit-le, jpeg-ls, rle (default: all three)");
  return {cmd, [o, syntaxes] {
            if (!syntaxes->empty()) {
              o->transfer_syntaxes.clear();
              for (const auto& s : *syntaxes) o->transfer_syntaxes.push_back(data::parse_transfer_syntax(s));
            }
            auto s = data::write_synthetic_dataset(*o);
            fmt::print("wrote {} images ({} with a lesion): train {} images / {} patients, val {} / {}\n"
                       "manifest {}\n",
                       s.images, s.positives, s.train_images, s.train_patients, s.val_images, s.val_patients,
                       s.manifest_path);
            return kExitOk;
          }};
}

}  // namespace medtrain::cli
