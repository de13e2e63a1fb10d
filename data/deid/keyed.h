#pragma once
// Keyed, deterministic replacements: HMAC-SHA-256 under the user's secret key
// (OpenSSL libcrypto). The same input under the same key always gives the same
// output, so two runs, two files of one study, or two machines agree; without the
// key the originals cannot be recovered or confirmed by guessing.
// Note [Domain separation]: every use hashes "medtrain-deid/<purpose>\0<value>" so
// that a patient ID and a UID with equal text never share a digest.
// Thread-safe: const methods only.
#include <array>
#include <cstdint>
#include <string>

namespace medtrain::data::deid {

using Digest = std::array<uint8_t, 32>;

Digest hmac_sha256(const std::string& key, const std::string& message);
std::string to_hex(const uint8_t* bytes, size_t n);
// SHA-256 of a file's bytes, lower-case hex, streamed (constant memory).
// Throws DataError naming the file when it cannot be read.
std::string sha256_file(const std::string& path);
std::string sha256_bytes(const void* data, size_t n);  // hex

// "2.25." + the first 16 bytes of `digest` as an unsigned decimal integer: a valid
// UID (PS3.5 B.2) of at most 44 characters, never with a leading zero.
std::string uid_from_digest(const Digest& digest);

class Pseudonymizer {
 public:
  explicit Pseudonymizer(std::string key) : key_(std::move(key)) {}

  // 32 lower-case hex characters: HMAC("patient", source)[0:16]. Used for both
  // Patient ID and Patient's Name. `source` is the original Patient ID (or the name
  // when the ID is empty).
  std::string patient_pseudonym(const std::string& source) const;
  // The keyed replacement of one UID (surrounding spaces and NULs ignored).
  std::string remap_uid(const std::string& uid) const;
  // Whole days to add to every date of this patient: -1 .. -3652 (up to ~10 years
  // back), from HMAC("date-offset", source). Same patient, same shift; intervals survive.
  int day_offset(const std::string& source) const;
  // An opaque id for an input path (relative to --in), so the audit can match
  // files on resume without writing the path, which may itself carry a name.
  std::string path_id(const std::string& relative_path) const;

 private:
  Digest keyed(const char* purpose, const std::string& value) const;
  std::string key_;
};

}  // namespace medtrain::data::deid
