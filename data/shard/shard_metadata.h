#pragma once
// The dataset-level description a pack writes next to its shards:
// DIR/metadata.json (nlohmann-json; docs/shards.md shows an example). It is
// rewritten atomically after every finished shard with "complete": false, so
// an interrupted pack can be resumed, and once more at the end with true.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace medtrain::data::shard {

inline constexpr int kFormatVersion = 1;
inline constexpr const char* kMetadataFile = "metadata.json";

struct ShardFileInfo {
  std::string file;     // name inside the pack folder, e.g. "train-00000.shard"
  std::string split;    // every record of a shard belongs to this split
  uint64_t first_row = 0;  // position of its first record among the split's manifest rows
  uint64_t records = 0;
  uint64_t bytes = 0;
  std::string sha256;   // of the whole file, lower-case hex
};

// A manifest file `medtrain pack --on-error skip` left out: it could not be
// read or decoded.
struct SkippedFile {
  std::string path;   // as in the manifest
  uint64_t line = 0;  // 1-based manifest line
  std::string split;
  std::string error;  // why (paths in it relative to the manifest root)
  bool operator==(const SkippedFile& o) const {
    return path == o.path && line == o.line && split == o.split && error == o.error;
  }
};

struct PackSettings {
  int64_t image_size = 0;         // 0 = pixels kept at their stored size
  std::string compression = "zstd";  // "zstd" | "none"
  uint64_t shard_bytes = 64ull << 20;
  // What each record's label holds: "class" (the manifest's label column) or
  // "multilabel" (its labels column as a bit set: bit i = finding i present).
  // or "mask" (each record holds the manifest's mask file, for segmentation).
  std::string target = "class";
  bool volumes = false;  // records are series volumes [depth, rows, cols] (manifest paths are folders)
  bool operator==(const PackSettings& o) const {
    return image_size == o.image_size && compression == o.compression && shard_bytes == o.shard_bytes &&
           target == o.target && volumes == o.volumes;
  }
};

// "class", "multilabel" or "mask": what PackSettings::target may hold for
// images. A pack of tokenised reports (data/text/text_pack.h) says "text", a
// pack of utterances (data/audio/speech_pack.h) "speech".
bool is_pack_target(const std::string& target);
inline constexpr const char* kTextPackTarget = "text";
inline constexpr const char* kSpeechPackTarget = "speech";

// A text pack's tokens depend on these; training refuses a pack whose values
// differ from the config's (data/text/text_pack.h).
struct TextPackInfo {
  std::string target;            // "class" | "multilabel" | "tags" (the config's model.task)
  std::string tokenizer_file;    // "tokenizer.json" | "vocab.txt" of model.pretrained
  std::string tokenizer_sha256;  // of that file
  int64_t max_length = 0;        // data.max_length
  int64_t pad_id = 0;            // the tokenizer's [PAD]
};

// A speech pack's samples depend on these (the PCM is 16 kHz mono whatever
// the options); training refuses a pack whose values differ from the
// config's (data/audio/speech_pack.h).
struct SpeechPackInfo {
  std::string tokenizer_file;    // "tokenizer.json" of model.pretrained
  std::string tokenizer_sha256;  // of that file
  int64_t max_tokens = 0;        // target tokens, prompt and <|endoftext|> included
  std::string language;          // "" (.en models) or the code of the prompt's <|LANG|>
  int64_t n_mels = 0;            // of the log-mel computed from the PCM in get()
  int64_t sample_rate = 16000;   // of the stored PCM
};

struct ShardMetadata {
  int format_version = kFormatVersion;
  bool complete = false;
  std::string manifest_sha256;
  PackSettings settings;
  std::vector<std::string> label_names;             // may be empty
  std::map<std::string, std::string> patient_split;  // patient id -> split
  std::map<std::string, uint64_t> records_per_split;
  std::vector<ShardFileInfo> shards;                 // in split order, then file order
  std::vector<SkippedFile> skipped;                  // in split order, then manifest order
  std::optional<TextPackInfo> text;                  // set when settings.target is "text"
  std::optional<SpeechPackInfo> speech;              // set when settings.target is "speech"
};

std::string to_json(const ShardMetadata& m);
// Reads DIR/metadata.json. Throws DataError naming the file and the key at fault.
ShardMetadata read_metadata(const std::string& dir);
void write_metadata(const std::string& dir, const ShardMetadata& m);  // atomic

// The shard file name for split `split`, number `n`: "<split>-00042.shard"
// ("all" for rows without a split).
std::string shard_file_name(const std::string& split, size_t n);

}  // namespace medtrain::data::shard
