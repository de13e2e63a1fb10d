#include "data/deid/keyed.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "data/data_error.h"

namespace medtrain::data::deid {
namespace {

std::string trim_uid(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\0')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\0')) --e;
  return s.substr(b, e - b);
}

}  // namespace

Digest hmac_sha256(const std::string& key, const std::string& message) {
  Digest out{};
  unsigned int len = 0;
  const unsigned char* ok = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                 reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &len);
  if (ok == nullptr || len != out.size()) throw DataError("HMAC-SHA-256 failed in OpenSSL");
  return out;
}

std::string to_hex(const uint8_t* bytes, size_t n) {
  static const char* const kHex = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kHex[bytes[i] >> 4];
    s[2 * i + 1] = kHex[bytes[i] & 0xF];
  }
  return s;
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw DataError("SHA-256 init failed in OpenSSL");
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) throw DataError(fmt::format("cannot read {}: I/O error", path));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return to_hex(md, len);
}

std::string sha256_bytes(const void* data, size_t n) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data, n, md, &len, EVP_sha256(), nullptr) != 1) throw DataError("SHA-256 failed in OpenSSL");
  return to_hex(md, len);
}

std::string uid_from_digest(const Digest& digest) {
  unsigned __int128 v = 0;
  for (int i = 0; i < 16; ++i) v = (v << 8) | digest[i];
  std::string dec;
  do {
    dec.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  return "2.25." + std::string(dec.rbegin(), dec.rend());
}

Digest Pseudonymizer::keyed(const char* purpose, const std::string& value) const {
  std::string message = std::string("medtrain-deid/") + purpose;
  message.push_back('\0');
  message += value;
  return hmac_sha256(key_, message);
}

std::string Pseudonymizer::patient_pseudonym(const std::string& source) const {
  const Digest d = keyed("patient", source);
  return to_hex(d.data(), 16);
}

std::string Pseudonymizer::remap_uid(const std::string& uid) const { return uid_from_digest(keyed("uid", trim_uid(uid))); }

int Pseudonymizer::day_offset(const std::string& source) const {
  const Digest d = keyed("date-offset", source);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | d[i];
  return -static_cast<int>(1 + v % 3652);
}

std::string Pseudonymizer::path_id(const std::string& relative_path) const {
  const Digest d = keyed("path", relative_path);
  return to_hex(d.data(), 16);
}

}  // namespace medtrain::data::deid
