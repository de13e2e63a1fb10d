#pragma once
// What `medtrain transcribe --in PATH` means by PATH:
//   a folder        every regular file below it (recursive) whose extension is
//                   .wav, .flac, .ogg, .oga or .opus (any case), sorted by
//                   path; id = the path below the folder. Other entries (a
//                   FIFO, a notes.txt) are passed over.
//   a .jsonl file   a manifest: one JSON object per line with "audio" (a path,
//                   relative to the manifest's folder unless absolute) and
//                   optionally "id" (default: "audio" as written); other keys
//                   (text, speaker, patient) are ignored, blank lines skipped.
//   any other file  that one audio file; id = its file name.
// Nothing is opened here but the manifest (through the guarded reader, so a
// FIFO or device is refused before any read); the audio files are checked
// when they are read (transcribe_run.cpp).
#include <filesystem>
#include <string>
#include <vector>

namespace medtrain::asr {

struct AudioInput {
  std::string id;
  std::filesystem::path path;
};

// Inputs in a stable order. UserError when PATH does not exist or holds no
// audio; DataError "<manifest>:<line>: <what>" for a malformed manifest row
// (not an object, no "audio", a non-string or empty id, a duplicate id).
std::vector<AudioInput> collect_audio_inputs(const std::filesystem::path& in);

}  // namespace medtrain::asr
