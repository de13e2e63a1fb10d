#include "data/shard/digest.h"

#include <openssl/evp.h>

#include "data/data_error.h"
#include "data/deid/keyed.h"

namespace medtrain::data::shard {

std::string sha256_hex(const void* data, size_t size) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data, size, md, &len, EVP_sha256(), nullptr) != 1) throw DataError("SHA-256 failed in OpenSSL");
  return deid::to_hex(md, len);
}

std::string sha256_file_hex(const std::string& path) { return deid::sha256_file(path); }

}  // namespace medtrain::data::shard
