#include "data/text/text_record.h"

#include <cstring>

#include "data/data_error.h"
#include "data/shard/little_endian.h"

namespace medtrain::data::text {
namespace {

using shard::get_u32;
using shard::get_u64;
using shard::put_u32;
using shard::put_u64;

uint32_t checked_size(size_t n, const char* what) {
  if (n > kMaxTextRecordTokens * 4ull) throw DataError(std::string("text record: ") + what + " is too long");
  return static_cast<uint32_t>(n);
}

std::vector<int32_t> get_i32s(const uint8_t* p, uint32_t n) {
  std::vector<int32_t> v(n);
  for (uint32_t i = 0; i < n; ++i) v[i] = static_cast<int32_t>(get_u32(p + 4ull * i));
  return v;
}

}  // namespace

std::vector<uint8_t> encode_text_record(const TextExample& e) {
  if (e.ids.size() > kMaxTextRecordTokens || e.target.size() > kMaxTextRecordTokens) {
    throw DataError("text record: id " + e.id + " has more than " + std::to_string(kMaxTextRecordTokens) + " tokens");
  }
  std::vector<uint8_t> out(kTextRecordMagic, kTextRecordMagic + sizeof(kTextRecordMagic));
  put_u32(out, checked_size(e.id.size(), "id"));
  put_u32(out, checked_size(e.patient.size(), "patient"));
  put_u32(out, checked_size(e.split.size(), "split"));
  put_u32(out, static_cast<uint32_t>(e.ids.size()));
  put_u32(out, static_cast<uint32_t>(e.target.size()));
  put_u32(out, e.spans_cut);
  put_u32(out, e.invalid_utf8);
  out.push_back(e.truncated ? 1 : 0);
  out.insert(out.end(), 3, 0);
  put_u64(out, e.line);
  for (const std::string* s : {&e.id, &e.patient, &e.split}) out.insert(out.end(), s->begin(), s->end());
  for (const int32_t v : e.ids) put_u32(out, static_cast<uint32_t>(v));
  for (const int32_t v : e.target) put_u32(out, static_cast<uint32_t>(v));
  return out;
}

TextExample decode_text_record(const uint8_t* data, size_t size, const std::string& where) {
  auto fail = [&](const std::string& what) -> TextExample { throw DataError(where + ": " + what); };
  if (size < kTextRecordHeaderBytes) return fail("text record shorter than its header");
  if (std::memcmp(data, kTextRecordMagic, sizeof(kTextRecordMagic)) != 0) {
    return fail("not a text record (an image pack? text is packed with `medtrain pack -c` and data.dataset: text)");
  }
  const uint32_t id_bytes = get_u32(data + 8), patient_bytes = get_u32(data + 12), split_bytes = get_u32(data + 16);
  const uint32_t n_ids = get_u32(data + 20), n_target = get_u32(data + 24);
  if (n_ids > kMaxTextRecordTokens || n_target > kMaxTextRecordTokens) return fail("text record: token count out of range");
  if (data[36] > 1 || data[37] != 0 || data[38] != 0 || data[39] != 0) return fail("text record: bad flags");
  const uint64_t want = kTextRecordHeaderBytes + uint64_t{id_bytes} + patient_bytes + split_bytes +
                        4ull * n_ids + 4ull * n_target;
  if (want != size) {
    return fail("text record of " + std::to_string(size) + " bytes, its header says " + std::to_string(want));
  }
  TextExample e;
  e.spans_cut = get_u32(data + 28);
  e.invalid_utf8 = get_u32(data + 32);
  e.truncated = data[36] == 1;
  e.line = static_cast<size_t>(get_u64(data + 40));
  const char* p = reinterpret_cast<const char*>(data + kTextRecordHeaderBytes);
  e.id.assign(p, id_bytes);
  e.patient.assign(p + id_bytes, patient_bytes);
  e.split.assign(p + id_bytes + patient_bytes, split_bytes);
  const uint8_t* ids = data + kTextRecordHeaderBytes + id_bytes + patient_bytes + split_bytes;
  e.ids = get_i32s(ids, n_ids);
  e.target = get_i32s(ids + 4ull * n_ids, n_target);
  return e;
}

}  // namespace medtrain::data::text
