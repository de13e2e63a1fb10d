#pragma once
// The record a speech shard holds for one utterance (speech_dataset.h): the
// 16 kHz mono PCM, decoded and resampled once when `medtrain pack -c` ran, and
// the tokenised transcript. Speech packs reuse the shard container of
// data/shard/shard_format.h (index with CRC32C per record, footer) with this
// payload; metadata.json says "target": "speech". Torch-free. All little-endian:
//
//   header  = "MTSPCH01" u32 text_bytes u32 speaker_bytes u32 patient_bytes
//             u32 split_bytes u32 n_ids u32 n_samples u64 order      (40 bytes)
//   record  = header text speaker patient split i32[n_ids] f32[n_samples]
//
// `order` is the utterance's position among the manifest's rows, so a pack
// opened for every split gives them back in manifest order, as the JSONL path
// does. Ids are stored as i32 (Whisper's vocabulary is ~52k). Not compressed:
// PCM is noise to zstd, and a pack is read whole when training opens it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/audio/speech_dataset.h"

namespace medtrain::data::audio {

inline constexpr char kSpeechRecordMagic[8] = {'M', 'T', 'S', 'P', 'C', 'H', '0', '1'};
inline constexpr size_t kSpeechRecordHeaderBytes = 40;
// A corrupt header must not make a reader allocate gigabytes: Whisper reads at
// most 448 tokens, and load_audio_16k's default cap is an hour (57.6M samples).
inline constexpr uint32_t kMaxSpeechRecordTokens = 1u << 16;
inline constexpr uint32_t kMaxSpeechRecordSamples = 3600u * 16000u;
inline constexpr uint32_t kMaxSpeechRecordStringBytes = 1u << 24;

struct SpeechRecord {
  SpeechExample example;  // ids, text, speaker, patient, split, pcm (audio_path and where empty)
  uint64_t order = 0;
};

// example.pcm is the audio; audio_path and where are not stored.
std::vector<uint8_t> encode_speech_record(const SpeechExample& example, uint64_t order);
// Throws DataError("<where>: ...") for any malformed byte string (not a speech
// record, sizes that do not add up to `size`); never reads outside [data, data + size).
SpeechRecord decode_speech_record(const uint8_t* data, size_t size, const std::string& where);

}  // namespace medtrain::data::audio
