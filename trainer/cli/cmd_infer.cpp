// medtrain infer --model DIR --in PATH --out predictions.csv|.jsonl
//                [--batch-size N] [--workers N] [--threads N] [--on-error skip|fail] [--device auto|cpu|cuda]
//                [--progress auto|bar|plain|none] [--precision fp32|bf16|fp16] [--cuda-graphs auto|on|off]
//                3D segmentation: [--mask-format npy,seg,nifti] [--seg-type binary|fractional]
//                [--sw-overlap F] [--sw-mode constant|gaussian] [--sw-batch N] [--max-volume-gb G]
//                2D classifiers: [--saliency grad-cam|occlusion] [--saliency-out DIR]
//                [--saliency-format png,dicom,npy]
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "trainer/cli/commands.h"
#include "trainer/export/inference.h"
#include "trainer/export/saliency_outputs.h"
#include "trainer/export/text_inference.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

Command add_infer_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("infer", "predict DICOM files (or, with a text bundle, reports) with an exported bundle (docs/export.md)");
  auto o = std::make_shared<exporter::InferOptions>();
  auto model = std::make_shared<std::string>(), in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>(), on_error = std::make_shared<std::string>("fail");
  cmd->add_option("--model", *model, "bundle folder written by `medtrain export`")->required();
  cmd->add_option("--in", *in, "a DICOM file, a folder (recursive) or a manifest .csv with a path column; text bundles: a .jsonl of reports, a .txt file or a folder of .txt files")
      ->required();
  cmd->add_option("--out", *out, "predictions file: .csv or .jsonl")->required();
  cmd->add_option("--batch-size", o->batch_size, "images per forward pass")
      ->capture_default_str()->check(CLI::Range(1, 65536));
  cmd->add_option("--workers", o->workers, "decode threads")->capture_default_str()->check(CLI::Range(0, 256));
  cmd->add_option("--on-error", *on_error, "a file that is not readable DICOM: fail (stop) or skip (report)")
      ->capture_default_str()->check(CLI::IsMember({"fail", "skip"}));
  cmd->add_option("--threads", o->threads, "CPU threads for the model (default 0: the usable cores, capped at the "
                  "container's CPU quota)")
      ->capture_default_str()->check(CLI::Range(0, 1024));
  cmd->add_option("--device", o->device, "auto | cpu | cuda")
      ->capture_default_str()->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd->add_option("--precision", o->precision, "image bundles on CUDA: fp32, or the forward under bf16/fp16 autocast "
                  "(logits back in float; docs/export.md#gpu-inference)")
      ->capture_default_str()->check(CLI::IsMember({"fp32", "bf16", "fp16"}));
  cmd->add_option("--cuda-graphs", o->cuda_graphs, "image bundles: replay the forward from CUDA graphs, one per batch "
                  "shape: auto (on for CUDA), on, off")
      ->capture_default_str()->check(CLI::IsMember({"auto", "on", "off"}));
  cmd->add_option("--progress", o->progress, "progress on stderr: auto (a bar on a terminal, a line every 10 s "
                  "otherwise), bar, plain or none")
      ->capture_default_str()->check(CLI::IsMember({"auto", "bar", "plain", "none"}));
  auto formats = std::make_shared<std::vector<std::string>>(o->mask_formats);
  auto seg_type = std::make_shared<std::string>("binary");
  cmd->add_option("--mask-format", *formats, "segmentation masks: a comma list of npy, seg (DICOM SEG), nifti "
                  "(.nii.gz); seg and nifti for 3D bundles trained at a voxel size")
      ->delimiter(',')->capture_default_str()->check(CLI::IsMember({"npy", "seg", "nifti"}));
  cmd->add_option("--seg-type", *seg_type, "DICOM SEG: binary (the argmax class) or fractional (each class's "
                  "probability, 0..255)")
      ->capture_default_str()->check(CLI::IsMember({"binary", "fractional"}));
  cmd->add_option("--sw-overlap", o->sw_overlap, "whole-volume sliding window: overlap of neighbouring windows")
      ->capture_default_str()->check(CLI::Range(0.0, 0.99));
  cmd->add_option("--sw-mode", o->sw_mode, "blending of overlapping windows: constant or gaussian (sigma 0.125 ROI)")
      ->capture_default_str()->check(CLI::IsMember({"constant", "gaussian"}));
  cmd->add_option("--sw-batch", o->sw_batch, "windows per forward pass")->capture_default_str()->check(CLI::Range(1, 4096));
  cmd->add_option("--max-volume-gb", o->max_volume_gb, "refuse a series whose estimated inference memory is larger "
                  "(docs/export.md)")
      ->capture_default_str()->check(CLI::Range(1e-6, 1e6));
  auto* saliency = cmd->add_option("--saliency", o->saliency, "2D CNN classifiers: where the model looked, for the "
                                   "predicted class: grad-cam or occlusion (docs/inference.md)")
      ->check(CLI::IsMember({"grad-cam", "occlusion"}));
  cmd->add_option("--saliency-out", o->saliency_out, "folder for the saliency files, which must not exist (default: "
                  "<out stem>_saliency beside --out)")
      ->needs(saliency);
  auto saliency_formats = std::make_shared<std::vector<std::string>>(o->saliency_formats);
  cmd->add_option("--saliency-format", *saliency_formats, "saliency files: a comma list of png (overlay), dicom "
                  "(Secondary Capture in the source's study), npy (the map)")
      ->delimiter(',')->capture_default_str()->check(CLI::IsMember({"png", "dicom", "npy"}))->needs(saliency);
  // For parity tests: the preprocessed inputs, in output order, as float32 .npy.
  cmd->add_option("--dump-inputs", o->dump_inputs)->group("");
  return {cmd, [o, model, in, out, on_error, formats, seg_type, saliency_formats] {
            o->mask_formats = *formats;
            o->saliency_formats = *saliency_formats;
            o->seg_fractional = *seg_type == "fractional";
            o->model_dir = *model;
            o->in = *in;
            o->out = *out;
            o->on_error = *on_error == "skip" ? data::OnError::kSkip : data::OnError::kFail;
            // Before the bundle loads: load_bundle caps the count at the CPU quota (cpu_quota.h).
            if (o->threads > 0) at::set_num_threads(o->threads);
            if (exporter::is_text_bundle(o->model_dir)) {
              // Refused naming the architecture, before anything is read or written.
              exporter::check_saliency_request(*o, exporter::read_model_card(o->model_dir));
              if (o->precision != "fp32" || o->cuda_graphs == "on") {
                throw UserError(std::string(o->precision != "fp32" ? "--precision " + o->precision : "--cuda-graphs on") +
                                ": text bundles run in fp32 without CUDA graphs; " + o->model_dir.string() +
                                " is a text bundle");
              }
              const auto t = exporter::run_text_inference(*o);
              if (t.empty > 0) {
                std::fprintf(stderr, "%zu of %zu texts were empty: predicted on no words\n", t.empty, t.texts);
              }
              if (t.truncated > 0) {
                std::fprintf(stderr, "%zu of %zu texts were longer than the model's window: their tail was not read\n",
                             t.truncated, t.texts);
              }
              fmt::print("predicted {} texts on {} -> {}\n", t.texts, t.device, o->out.string());
              return kExitOk;
            }
            const auto s = exporter::run_inference(*o);
            if (!s.graph.empty()) std::fprintf(stderr, "model: %s\n", s.graph.c_str());
            for (const auto& [path, reason] : s.skipped) std::fprintf(stderr, "skipped %s\n", reason.c_str());
            for (const auto& [path, reason] : s.failed) std::fprintf(stderr, "failed %s\n", reason.c_str());
            if (!s.skipped.empty()) {
              std::fprintf(stderr, "skipped %zu of %zu %s (not readable DICOM; --on-error skip)\n",
                           s.skipped.size(), s.files, s.unit);
            }
            fmt::print("predicted {} of {} {} on {} -> {}\n", s.predictions.size(), s.files, s.unit, s.device,
                       o->out.string());
            if (s.saliency_maps > 0) {
              fmt::print("saliency: {} {} maps -> {}\n", s.saliency_maps, o->saliency, s.saliency_dir.string());
            }
            fmt::print("summary: {} predicted, {} skipped, {} failed\n", s.predictions.size(), s.skipped.size(),
                       s.failed.size());
            return kExitOk;
          }};
}

}  // namespace medtrain::cli
