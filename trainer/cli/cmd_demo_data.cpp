// medtrain demo-data --out DIR: synthetic CT-like DICOM with a learnable finding
// (--kind images, the default), synthetic radiology reports with finding
// labels and PHI spans (--kind reports, data/text/synthetic_reports.h), or
// synthetic dictation spoken by espeak-ng (--kind dictation,
// data/audio/synthetic_dictation.h).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <memory>

#include "data/audio/synthetic_dictation.h"
#include "data/dicom/synthetic_dicom.h"
#include "data/text/synthetic_reports.h"
#include "trainer/cli/commands.h"
#include "trainer/user_error.h"

namespace medtrain::cli {
namespace {

// Options that only --kind images reads; given with --kind reports they are an error.
constexpr const char* kImageOnly[] = {"--size", "--positive-fraction", "--multilabel", "--masks", "--volumes",
                                      "--transfer-syntax"};

// --kind reports: the shared options given on the command line, else ReportOptions' defaults.
int write_reports(CLI::App* cmd, const data::SyntheticOptions& o) {
  for (const char* name : kImageOnly) {
    if (cmd->get_option(name)->count() > 0) {
      throw UserError(fmt::format("demo-data: {} is for --kind images; --kind reports takes --out, --count, "
                                  "--patients, --seed and --val-fraction",
                                  name));
    }
  }
  data::text::ReportOptions r;
  r.out_dir = o.out_dir;
  if (cmd->get_option("--count")->count() > 0) r.count = static_cast<int64_t>(o.count);
  if (cmd->get_option("--patients")->count() > 0) r.patients = static_cast<int64_t>(o.patients);
  if (cmd->get_option("--seed")->count() > 0) r.seed = o.seed;
  if (cmd->get_option("--val-fraction")->count() > 0) r.val_fraction = o.val_fraction;
  const auto s = data::text::write_synthetic_reports(r);
  fmt::print("wrote {} reports ({} patients, {} PHI spans): train {} reports / {} patients, val {} / {}; manifest {}\n",
             s.reports, s.patients, s.spans, s.train_reports, s.train_patients, s.val_reports, s.val_patients, s.path);
  return kExitOk;
}

// --kind dictation: --out, --count (default 160) and --seed only.
int write_dictation(CLI::App* cmd, const data::SyntheticOptions& o) {
  for (const char* name : kImageOnly) {
    if (cmd->get_option(name)->count() > 0) {
      throw UserError(fmt::format("demo-data: {} is for --kind images; --kind dictation takes --out, --count and --seed",
                                  name));
    }
  }
  for (const char* name : {"--patients", "--val-fraction"}) {
    if (cmd->get_option(name)->count() > 0) {
      throw UserError(fmt::format("demo-data: {} is not used by --kind dictation (speakers, patients and the "
                                  "split are fixed: docs/asr.md); it takes --out, --count and --seed",
                                  name));
    }
  }
  data::audio::DictationOptions d;
  d.out_dir = o.out_dir;
  if (cmd->get_option("--count")->count() > 0) d.count = static_cast<int64_t>(o.count);
  if (cmd->get_option("--seed")->count() > 0) d.seed = o.seed;
  const auto s = data::audio::write_synthetic_dictation(d);
  fmt::print("wrote {} utterances ({:.1f} s of audio; {} speakers, {} patients): train {} utterances / {} speakers / "
             "{} patients, val {} / {} / {}; manifest {}\n",
             s.all.utterances, s.all.seconds, s.all.speakers, s.all.patients, s.train.utterances, s.train.speakers,
             s.train.patients, s.val.utterances, s.val.speakers, s.val.patients, s.path);
  return kExitOk;
}

}  // namespace

Command add_demo_data_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "demo-data",
      "write synthetic CT-like DICOM slices (lesion present/absent) and a manifest, or (--kind reports) "
      "synthetic radiology reports with finding labels and PHI spans, or (--kind dictation) synthetic "
      "radiology dictation spoken by espeak-ng, for ASR fine-tuning");
  auto o = std::make_shared<data::SyntheticOptions>();
  auto syntaxes = std::make_shared<std::vector<std::string>>();
  auto kind = std::make_shared<std::string>("images");
  cmd->add_option("--kind", *kind, "images: DICOM + manifest.csv; reports: reports.jsonl (text); "
                  "dictation: audio/*.wav + dictation.jsonl (espeak-ng)")
      ->capture_default_str()->check(CLI::IsMember({"images", "reports", "dictation"}));
  cmd->add_option("--out", o->out_dir,
                  "output folder (images/ and manifest.csv; reports.jsonl; audio/ and dictation.jsonl)")->required();
  cmd->add_option("--count", o->count, "number of images (reports: default 600; dictation: 160)")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--patients", o->patients, "number of patients (reports: default 200)")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--size", o->image_size, "rows = columns")->capture_default_str()->check(CLI::Range(16, 4096));
  cmd->add_option("--seed", o->seed, "random seed")->capture_default_str();
  cmd->add_option("--positive-fraction", o->positive_fraction, "share with a lesion")
      ->capture_default_str()->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--val-fraction", o->val_fraction, "share of patients in the val split (reports: default 0.25)")
      ->capture_default_str()->check(CLI::Range(0.0, 0.9));
  cmd->add_flag("--multilabel", o->multilabel,
                "a lesion in each lung independently; manifest column labels (right_lung_lesion|left_lung_lesion)");
  cmd->add_flag("--masks", o->masks, "write lesion masks (.npy, uint8) and a manifest column mask");
  cmd->add_flag("--volumes", o->volumes,
                "one manifest row per patient: its series folder, the lesion a sphere (3D models, data.depth)");
  cmd->add_option("--transfer-syntax", *syntaxes,
                  "cycle through these: explicit-le, jpeg-ls, rle (default: all three)");
  return {cmd, [cmd, o, syntaxes, kind] {
            if (*kind == "reports") return write_reports(cmd, *o);
            if (*kind == "dictation") return write_dictation(cmd, *o);
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
