#pragma once
// Loading a DICOM file with DCMTK and reading the Image Pixel module (and the
// few geometry attributes the series reader needs) into DicomImageInfo.
// Internal to data/dicom/dicom_*.cpp; DCMTK types stay out of public headers.
#include <string>

#include "data/dicom/dicom_decode.h"
#include "data/io/memory_file.h"

class DcmFileFormat;
class DcmDataset;

namespace medtrain::data::detail {

[[noreturn]] void dicom_fail(const std::string& path, const std::string& what);

// Loads the whole file; throws DataError for a missing/unreadable file, a file
// that is not DICOM, and a truncated or corrupt one.
void load_dicom_file(DcmFileFormat& file, const std::string& path);

// The same, but the file is read whole first (one open and read, through
// io::read_user_file): a failing or short read is told apart from a bad file
// (io::TransientReadError, Note [Transient reads]) and DCMTK never goes back to
// the storage for the pixels. DCMTK parses the bytes as a file (an in-memory
// one, memory_file.h), lazily as it parses any file: the returned MemoryFile
// must outlive every use of `file`'s values.
[[nodiscard]] io::MemoryFile load_dicom_whole(DcmFileFormat& file, const std::string& path);

// Reads and checks the header; pixel-independent. The transfer syntax is the
// one the file was stored with.
DicomImageInfo read_dicom_header(DcmDataset* ds, const std::string& path);

}  // namespace medtrain::data::detail
