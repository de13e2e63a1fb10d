#pragma once
// Safety check for de-identified data, for `medtrain deid --verify` and for the
// loader/packer (data.require_deidentified). A file passes when Patient Identity
// Removed (0012,0062) is YES and no element the profile removes (X, under the
// options the file's own De-identification Method Code Sequence declares) and no
// private element outside the allow-list is present, at any depth.
// Thread-safe; reads the file, never changes it.
#include <cstdint>
#include <optional>
#include <set>
#include <string>

class DcmFileFormat;

namespace medtrain::data::deid {

struct VerifyOptions {
  std::set<uint32_t> keep_private;  // private tags a deid run was told to retain
};

// The first problem found, naming the tag (never a value), or nullopt when the file
// passes. A file that is not readable DICOM is a problem too (reported, not thrown).
std::optional<std::string> check_deidentified(const std::string& path, const VerifyOptions& options = {});
std::optional<std::string> check_deidentified(DcmFileFormat& file, const VerifyOptions& options = {});

}  // namespace medtrain::data::deid
