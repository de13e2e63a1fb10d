#pragma once
// SHA-256 (OpenSSL libcrypto) for whole shard files and the manifest: a strong
// checksum for what is kept for years (retention), where CRC32C guards each
// record against storage bit rot on every read.
#include <cstddef>
#include <string>

namespace medtrain::data::shard {

std::string sha256_hex(const void* data, size_t size);  // lower-case hex
std::string sha256_file_hex(const std::string& path);    // throws DataError naming the file

}  // namespace medtrain::data::shard
