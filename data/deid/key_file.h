#pragma once
// The secret key for keyed pseudonyms. Its bytes are used exactly as stored (no
// trimming). It must be at least 16 bytes and readable by its owner only: a key
// other users can read lets them confirm guesses of patient identities.
#include <string>

namespace medtrain::data::deid {

inline constexpr size_t kMinKeyBytes = 16;

// Throws DataError naming the file and the fix: missing, not a regular file,
// group/world permissions (chmod 600), too short. The message never holds the key.
std::string read_key_file(const std::string& path);

}  // namespace medtrain::data::deid
