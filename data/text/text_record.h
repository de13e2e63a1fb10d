#pragma once
// The record a text shard holds for one tokenised report (text_example.h).
// Text packs reuse the shard container of data/shard/shard_format.h (magic,
// index with CRC32C per record, footer) with this payload in place of an image
// record; metadata.json says "target": "text". Torch-free. All little-endian:
//
//   header  = "MTTEXT01" u32 id_bytes u32 patient_bytes u32 split_bytes
//             u32 n_ids u32 n_target u32 spans_cut u32 invalid_utf8
//             u8 truncated u8[3] 0 u64 line                               (48 bytes)
//   record  = header id patient split i32[n_ids] i32[n_target]
//
// Not compressed: ids are a few hundred bytes per report, and a pack is read
// whole when training opens it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/text/text_example.h"

namespace medtrain::data::text {

inline constexpr char kTextRecordMagic[8] = {'M', 'T', 'T', 'E', 'X', 'T', '0', '1'};
inline constexpr size_t kTextRecordHeaderBytes = 48;
// A corrupt header must not make a reader allocate gigabytes: no BERT reads
// more than a few thousand tokens.
inline constexpr uint32_t kMaxTextRecordTokens = 1u << 20;

std::vector<uint8_t> encode_text_record(const TextExample& example);
// Throws DataError("<where>: ...") for any malformed byte string (not a text
// record, sizes that do not add up to `size`); never reads outside [data, data + size).
TextExample decode_text_record(const uint8_t* data, size_t size, const std::string& where);

}  // namespace medtrain::data::text
