// read_speech_manifest (speech_dataset.h): dictation manifests (JSONL).
//
//   {"audio": "clips/0001.wav", "text": "No pleural effusion.",
//    "speaker": "DR07", "patient": "P0003", "split": "train"}
//
// "audio" and "text" are required; "speaker", "patient" and "split" are
// optional but not empty when given; other keys are ignored; blank lines are
// skipped. "audio" is relative to the manifest's folder, or absolute inside
// it; the check is on the path as written (lexically), so a folder of links
// to a data disk works, while "../x.wav" does not.
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "data/audio/speech_dataset.h"
#include "data/audio/whisper_tokens.h"
#include "data/io/user_file.h"
#include "data/text/jsonl.h"

namespace medtrain::data::audio {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using text::jsonl_fail;
using text::short_text;

std::string trimmed(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

class Reader {
 public:
  explicit Reader(const SpeechDatasetOptions& o)
      : o_(o), where_(io::display_path(o.manifest)), folder_(fs::absolute(fs::path(o.manifest)).parent_path().lexically_normal()) {}

  [[noreturn]] void fail(size_t line, const std::string& what) const { jsonl_fail(where_, line, what); }

  std::vector<SpeechExample> read() const {
    const std::string data = io::read_user_file(o_.manifest, "speech manifest", io::kMaxManifestBytes);
    struct Row {
      SpeechExample e;
      size_t line;
    };
    std::vector<Row> all;
    text::for_each_jsonl_line(data, [&](size_t line, std::string_view t) { all.push_back({row(t, line), line}); });
    if (all.empty()) fail(0, "no rows: expected one JSON object per line with at least \"audio\" and \"text\"");
    std::unordered_map<std::string, const Row*> patient_split;
    for (const Row& r : all) {
      if (r.e.patient.empty() || r.e.split.empty()) continue;
      const auto [p, first] = patient_split.emplace(r.e.patient, &r);
      if (!first && p->second->e.split != r.e.split) {
        fail(r.line, "patient \"" + short_text(r.e.patient) + "\" is in split \"" + short_text(r.e.split) +
                         "\" here but in split \"" + short_text(p->second->e.split) + "\" on line " +
                         std::to_string(p->second->line) + "; all dictations of a patient must be in one split");
      }
    }
    const text::Tokenizer tokenizer = load_whisper_tokenizer(o_.tokenizer_dir);
    const std::vector<int64_t> prompt = whisper_prompt(tokenizer, o_.tokenizer_dir, o_.language);
    const int64_t eot = whisper_tokens(tokenizer, o_.tokenizer_dir).eot;
    std::vector<SpeechExample> out;
    for (Row& r : all) {
      if (!o_.split.empty() && r.e.split != o_.split) continue;
      // openai-whisper's targets: a leading space, so the first text token is
      // the one the model emits after the prompt.
      const text::Encoding enc = tokenizer.encode(" " + trimmed(r.e.text), false);
      r.e.ids = prompt;
      r.e.ids.insert(r.e.ids.end(), enc.ids.begin(), enc.ids.end());
      r.e.ids.push_back(eot);
      if (static_cast<int64_t>(r.e.ids.size()) > o_.max_tokens) {
        fail(r.line, "the transcript is " + std::to_string(r.e.ids.size()) + " tokens with the prompt and " +
                         "<|endoftext|>, more than max_tokens " + std::to_string(o_.max_tokens) +
                         " (Whisper's decoder holds 448): split the dictation");
      }
      out.push_back(std::move(r.e));
    }
    return out;
  }

 private:
  SpeechExample row(std::string_view t, size_t line) const {
    const json j = text::parse_jsonl_object(t, where_, line);
    SpeechExample e;
    const std::string audio = text::jsonl_string(j, "audio", true, where_, line);
    if (audio.empty()) fail(line, "empty \"audio\"");
    e.text = text::jsonl_string(j, "text", true, where_, line);
    if (trimmed(e.text).empty()) fail(line, "empty \"text\" (" + short_text(audio) + ")");
    const auto optional = [&](const char* key) {
      std::string v = text::jsonl_string(j, key, false, where_, line);
      if (j.contains(key) && v.empty()) fail(line, std::string("empty \"") + key + "\" (leave the key out instead)");
      return v;
    };
    e.speaker = optional("speaker");
    e.patient = optional("patient");
    e.split = optional("split");
    e.audio_path = audio_path(audio, line);
    e.where = where_ + ":" + std::to_string(line) + " (" + io::display_path(audio) + ")";
    return e;
  }

  std::string audio_path(const std::string& audio, size_t line) const {
    if (audio.find('\0') != std::string::npos) fail(line, "\"audio\" holds a NUL character");
    const fs::path p = (folder_ / fs::path(audio)).lexically_normal();  // an absolute `audio` replaces folder_
    const fs::path rel = p.lexically_relative(folder_);
    if (rel.empty() || *rel.begin() == "..") {
      fail(line, "\"audio\" " + io::display_path(audio) + " is outside the manifest's folder " +
                     io::display_path(folder_.string()) + " (paths are relative to it)");
    }
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
      fail(line, "\"audio\" " + io::display_path(p.string()) +
                     (fs::exists(p, ec) ? ": not a regular file" : ": no such file"));
    }
    return p.string();
  }

  const SpeechDatasetOptions& o_;
  const std::string where_;
  const fs::path folder_;
};

}  // namespace

std::vector<SpeechExample> read_speech_manifest(const SpeechDatasetOptions& options) {
  return Reader(options).read();
}

}  // namespace medtrain::data::audio
