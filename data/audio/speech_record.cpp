#include "data/audio/speech_record.h"

#include <cstring>

#include "data/data_error.h"
#include "data/shard/little_endian.h"

namespace medtrain::data::audio {
namespace {

using shard::get_u32;
using shard::get_u64;
using shard::put_u32;
using shard::put_u64;

// Byte order by shifts, as for the ints: the layout is little-endian on any host.
uint32_t float_bits(float f) {
  uint32_t u = 0;
  std::memcpy(&u, &f, 4);
  return u;
}

float bits_float(uint32_t u) {
  float f = 0;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

std::vector<uint8_t> encode_speech_record(const SpeechExample& e, uint64_t order) {
  auto refuse = [&](const std::string& what) { throw DataError("speech record (" + e.where + "): " + what); };
  if (e.ids.size() > kMaxSpeechRecordTokens) refuse("more than " + std::to_string(kMaxSpeechRecordTokens) + " tokens");
  if (e.pcm.size() > kMaxSpeechRecordSamples) refuse("longer than an hour of 16 kHz audio");
  for (const std::string* s : {&e.text, &e.speaker, &e.patient, &e.split}) {
    if (s->size() > kMaxSpeechRecordStringBytes) refuse("a transcript or name of more than 16 MiB");
  }
  std::vector<uint8_t> out(kSpeechRecordMagic, kSpeechRecordMagic + sizeof(kSpeechRecordMagic));
  out.reserve(kSpeechRecordHeaderBytes + e.text.size() + e.speaker.size() + e.patient.size() + e.split.size() +
              4 * e.ids.size() + 4 * e.pcm.size());
  for (const std::string* s : {&e.text, &e.speaker, &e.patient, &e.split}) put_u32(out, static_cast<uint32_t>(s->size()));
  put_u32(out, static_cast<uint32_t>(e.ids.size()));
  put_u32(out, static_cast<uint32_t>(e.pcm.size()));
  put_u64(out, order);
  for (const std::string* s : {&e.text, &e.speaker, &e.patient, &e.split}) out.insert(out.end(), s->begin(), s->end());
  for (const int64_t id : e.ids) {
    if (id < 0 || id > INT32_MAX) refuse("token id " + std::to_string(id) + " does not fit 32 bits");
    put_u32(out, static_cast<uint32_t>(id));
  }
  for (const float v : e.pcm) put_u32(out, float_bits(v));
  return out;
}

SpeechRecord decode_speech_record(const uint8_t* data, size_t size, const std::string& where) {
  auto fail = [&](const std::string& what) -> SpeechRecord { throw DataError(where + ": " + what); };
  if (size < kSpeechRecordHeaderBytes) return fail("speech record shorter than its header");
  if (std::memcmp(data, kSpeechRecordMagic, sizeof(kSpeechRecordMagic)) != 0) {
    return fail("not a speech record (another kind of pack? speech is packed with `medtrain pack -c` and "
                "data.dataset: speech)");
  }
  uint32_t bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = get_u32(data + 8 + 4 * i);
  const uint32_t n_ids = get_u32(data + 24), n_samples = get_u32(data + 28);
  for (const uint32_t b : bytes) {
    if (b > kMaxSpeechRecordStringBytes) return fail("speech record: string length out of range");
  }
  if (n_ids > kMaxSpeechRecordTokens) return fail("speech record: token count out of range");
  if (n_samples > kMaxSpeechRecordSamples) return fail("speech record: sample count out of range");
  const uint64_t want = kSpeechRecordHeaderBytes + uint64_t{bytes[0]} + bytes[1] + bytes[2] + bytes[3] +
                        4ull * n_ids + 4ull * n_samples;
  if (want != size) {
    return fail("speech record of " + std::to_string(size) + " bytes, its header says " + std::to_string(want));
  }
  SpeechRecord r;
  r.order = get_u64(data + 32);
  const char* p = reinterpret_cast<const char*>(data + kSpeechRecordHeaderBytes);
  std::string* fields[4] = {&r.example.text, &r.example.speaker, &r.example.patient, &r.example.split};
  for (int i = 0; i < 4; ++i) {
    fields[i]->assign(p, bytes[i]);
    p += bytes[i];
  }
  const uint8_t* ids = reinterpret_cast<const uint8_t*>(p);
  r.example.ids.resize(n_ids);
  for (uint32_t i = 0; i < n_ids; ++i) r.example.ids[i] = static_cast<int32_t>(get_u32(ids + 4ull * i));
  const uint8_t* pcm = ids + 4ull * n_ids;
  r.example.pcm.resize(n_samples);
  for (uint32_t i = 0; i < n_samples; ++i) r.example.pcm[i] = bits_float(get_u32(pcm + 4ull * i));
  return r;
}

}  // namespace medtrain::data::audio
