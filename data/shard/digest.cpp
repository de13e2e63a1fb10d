#include "data/shard/digest.h"

#include "data/deid/keyed.h"

namespace medtrain::data::shard {

// One SHA-256 in data/: the de-identification audit's (OpenSSL).
std::string sha256_hex(const void* data, size_t size) { return deid::sha256_bytes(data, size); }

std::string sha256_file_hex(const std::string& path) { return deid::sha256_file(path); }

}  // namespace medtrain::data::shard
