#pragma once
// The fragments of encapsulated Pixel Data grouped into frames, for codecs we
// drive ourselves (JPEG 2000). Internal to data/dicom/dicom_decode.cpp.
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstdint>
#include <string>
#include <vector>

class DcmElement;

namespace medtrain::data {

// Returns `frames` byte strings, each the concatenated fragments of one frame.
// Which fragments form a frame (PS3.5 A.4): all of them for one frame; one each
// when there are as many fragments as frames; else the Basic Offset Table; else
// a new frame starts at each fragment beginning with a JPEG 2000 SOC marker or a
// JP2 signature. Throws DataError naming `path` when none of these works.
std::vector<std::vector<uint8_t>> split_encapsulated_frames(DcmElement* pixel_data, E_TransferSyntax xfer,
                                                             int64_t frames, const std::string& path);

}  // namespace medtrain::data
