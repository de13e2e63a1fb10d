#pragma once
// Bytes already in memory, as a file with a name: an anonymous memfd whose
// path /proc/self/fd/N a library that opens files by name can read and seek.
//
// Why: DCMTK parses a file stream lazily (values longer than
// DCM_MaxReadLength are read when used), but a memory buffer eagerly, with
// each value's declared length allocated up front. The loader reads a DICOM
// file whole, once, so that a failing NAS read is told apart from a bad file
// (read_retry.h); handing DCMTK these bytes as a file keeps its file-stream
// behaviour without going back to the storage.
#include <string>
#include <string_view>

namespace medtrain::data::io {

class MemoryFile {
 public:
  // Throws DataError naming `what_for` when the memfd cannot be made or filled.
  MemoryFile(std::string_view bytes, const std::string& what_for);
  ~MemoryFile();
  MemoryFile(MemoryFile&& other) noexcept;
  MemoryFile& operator=(MemoryFile&&) = delete;
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  // Valid while this object lives.
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace medtrain::data::io
