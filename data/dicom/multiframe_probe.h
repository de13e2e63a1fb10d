#pragma once
// Whether one DICOM file is a multi-frame volume (multiframe_volume.h): the
// header-only question the manifest reader asks of a path in a volume
// manifest. Kept apart from multiframe_volume.h, which brings LibTorch, so
// that the manifest reader (and its fuzzer, tests/fuzz/) needs none.
#include <string>

namespace medtrain::data {

// True when the file's header says it is an RT dose grid or an enhanced
// multi-frame image (see multiframe_volume.h); false for a file that cannot be
// read. Defined in multiframe_volume.cpp.
bool is_multiframe_volume(const std::string& path);

}  // namespace medtrain::data
