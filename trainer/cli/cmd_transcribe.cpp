// medtrain transcribe --model DIR --in FILE|FOLDER|MANIFEST.jsonl --out X.jsonl
//                     [--language xx] [--batch N] [--beam-size N] [--device auto|cpu|cuda] [--threads N] [--on-error fail|skip]
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "trainer/asr/transcribe_run.h"
#include "trainer/cli/commands.h"
#include "trainer/user_error.h"

namespace medtrain::cli {

Command add_transcribe_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("transcribe", "speech to text with a Whisper model folder (docs/asr.md)");
  auto o = std::make_shared<asr::TranscribeOptions>();
  auto on_error = std::make_shared<std::string>("fail");
  auto threads = std::make_shared<int>(0);
  auto model = std::make_shared<std::string>(), in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("--model", *model, "Whisper folder: CTranslate2 (model.bin, vocabulary.txt, tokenizer.json) "
                                           "or Hugging Face (config.json, model.safetensors, tokenizer.json)")
      ->required();
  cmd->add_option("--in", *in, "an audio file (WAV, FLAC, Ogg), a folder of them (recursive) or a .jsonl manifest "
                                 "with \"audio\" (and \"id\")")
      ->required();
  cmd->add_option("--out", *out, "transcripts, .jsonl")->required();
  cmd->add_option("--language", o->language, "language of the audio (en, de, ...): required for a multilingual "
                                             "Whisper (no language detection), refused for an English-only (.en) one");
  cmd->add_option("--batch", o->batch, "30-s windows per decoder batch")->capture_default_str()->check(CLI::Range(1, 1024));
  cmd->add_option("--beam-size", o->beam_size, "1: greedy decoding; more: beam search (CTranslate2's rules)")
      ->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--device", o->device, "auto | cpu | cuda")
      ->capture_default_str()->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd->add_option("--threads", *threads, "LibTorch threads; 0: OMP_NUM_THREADS, else every core")
      ->capture_default_str()->check(CLI::Range(0, 1024));
  cmd->add_option("--on-error", *on_error, "a file that cannot be decoded as audio: fail (stop) or skip (report)")
      ->capture_default_str()->check(CLI::IsMember({"fail", "skip"}));
  return {cmd, [o, model, in, out, on_error, threads] {
            o->model_dir = *model;
            o->in = *in;
            o->out = *out;
            if (*threads > 0) at::set_num_threads(*threads);
            o->skip_bad_audio = *on_error == "skip";
            const auto s = asr::run_transcription(*o);
            for (const auto& note : s.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
            for (const auto& warning : s.warnings) std::fprintf(stderr, "warning: %s\n", warning.c_str());
            for (const auto& reason : s.skipped) std::fprintf(stderr, "skipped %s\n", reason.c_str());
            if (!s.skipped.empty()) {
              std::fprintf(stderr, "skipped %zu of %zu files (not decodable audio; --on-error skip)\n",
                           s.skipped.size(), s.inputs);
            }
            if (s.silent > 0) {
              std::fprintf(stderr, "%zu of %zu files were silent: written with empty text, not decoded\n", s.silent,
                           s.inputs);
            }
            fmt::print("transcribed {} of {} files ({} windows of 30 s) with a {} Whisper on {} -> {}\n",
                       s.transcribed, s.inputs, s.windows, s.layout, s.device, o->out.string());
            return kExitOk;
          }};
}

}  // namespace medtrain::cli
