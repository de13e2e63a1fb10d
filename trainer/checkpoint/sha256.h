#pragma once
// SHA-256 through OpenSSL's EVP interface, for checkpoint manifests.
#include <string>
#include <string_view>

namespace medtrain::checkpoint {

// Lower-case hexadecimal digest (64 characters) of `bytes`.
std::string sha256_hex(std::string_view bytes);

}  // namespace medtrain::checkpoint
