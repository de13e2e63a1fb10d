#pragma once
// Synthetic radiology dictation for ASR fine-tuning demos and tests
// (`medtrain demo-data --kind dictation`): short utterances rendered to speech
// with espeak-ng (speech_synthesis.h) by a fixed set of speakers, and a JSONL
// manifest at <out_dir>/dictation.jsonl, paths relative to its folder:
//
//   {"audio": "audio/u00001.wav", "text": "Small left pleural effusion.",
//    "speaker": "spk03", "patient": "P0007", "split": "train"}
//
// Utterances are one or two sentences, 4..25 words (a few seconds; always far
// under Whisper's 30-s window), in the vocabulary an off-the-shelf English model
// garbles: pleural effusion, atelectasis, pneumothorax, cardiomegaly,
// consolidation, hilar, costophrenic, "no acute cardiopulmonary process",
// measurements. Transcripts are plain text: numbers as digits ("a 6 millimeter
// nodule", "2.5 centimeters"), units as words, sentence punctuation.
//
// Note [Speaker and patient split]
// A val set must be new speakers AND new patients, or a model that memorised a
// voice or a patient's findings looks better than it is. So kHeldOutSpeakers of
// the speakers and a quarter of the patients (at least one) are held out, and an
// utterance is "train" when its speaker and patient are both training ones,
// "val" when both are held out; a mixed pair is never drawn (each utterance's
// speaker and patient come from the same side). About 3/16 of the utterances
// are val (30 of the default 160). Patients are dealt to the utterances of
// their side in turn, so each appears when there are enough utterances.
//
// Everything but the audio is a pure function of (count, seed); espeak-ng is
// deterministic too, so the WAVs repeat on the same espeak-ng version.
#include <cstdint>
#include <string>
#include <vector>

#include "data/audio/speech_synthesis.h"

namespace medtrain::data::audio {

constexpr int kHeldOutSpeakers = 2;

struct DictationSpeaker {
  std::string id;     // "spk01"
  SpeechVoice voice;  // espeak-ng voice variant, speed and pitch
};

// The fixed speakers (10): en-us and en-gb voices, male and female variants,
// 130..185 words per minute.
const std::vector<DictationSpeaker>& dictation_speakers();

struct DictationOptions {
  std::string out_dir;  // created if missing; audio/ and dictation.jsonl are overwritten
  int64_t count = 160;  // utterances, >= 1
  uint64_t seed = 0;
  int jobs = 2;         // espeak-ng processes at a time
};

struct DictationUtterance {
  std::string id;       // "u00001"
  std::string text;
  std::string speaker;  // a DictationSpeaker id
  std::string patient;  // "P0001"
  bool val = false;
};

// The utterances (no audio): what write_synthetic_dictation renders.
std::vector<DictationUtterance> plan_dictation(const DictationOptions& options);

struct DictationSplit {
  int64_t utterances = 0, speakers = 0, patients = 0;  // speakers and patients that occur
  double seconds = 0;                                  // audio
};

struct DictationSummary {
  std::string path;  // <out_dir>/dictation.jsonl
  DictationSplit all, train, val;
};

// Renders every utterance to <out_dir>/audio/<id>.wav (options.jobs at a time),
// then writes the manifest (atomically: a temporary file renamed into place).
// Throws DataError on bad options, a failed rendering (speech_synthesis.h) or a
// write failure; the manifest is not written then.
DictationSummary write_synthetic_dictation(const DictationOptions& options);

}  // namespace medtrain::data::audio
