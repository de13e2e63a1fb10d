#pragma once
// Text to speech with espeak-ng (the Debian package espeak-ng; scripts/setup.sh
// installs it), for synthetic dictation (synthetic_dictation.h). The program is
// run as a child process with an argv array, never through a shell: the text is
// one argument after "--", so quotes, "$", ";" or a leading "-" in it are spoken,
// not interpreted. espeak-ng writes a 22050 Hz mono 16-bit PCM WAV.
//
// Errors (DataError): the program is not on PATH ("espeak-ng not found: install
// ..."); it exits non-zero or dies of a signal (the first line of its stderr is
// in the message); it exits 0 without writing audio (espeak-ng does that when
// the WAV cannot be created); empty text; a voice name, speed or pitch out of
// espeak-ng's range.
//
// Threads may render different files at once (each call is its own process).
#include <string>

namespace medtrain::data::audio {

struct SpeechVoice {
  std::string voice = "en-us";   // -v: a language plus an optional variant, "en-gb+f3"
  int words_per_minute = 175;    // -s: 80..450
  int pitch = 50;                // -p: 0..99
};

// Renders `text` (UTF-8) to a WAV file at `out_path` (overwritten). `program`
// is looked up on PATH unless it contains a "/".
void synthesize_speech(const std::string& text, const SpeechVoice& voice, const std::string& out_path,
                       const std::string& program = "espeak-ng");

}  // namespace medtrain::data::audio
