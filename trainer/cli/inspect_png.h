#pragma once
// `medtrain inspect FILE|FOLDER --png OUT`: one frame as the training
// pipeline sees it, for people. The frame goes through the pipeline's own
// decode (modality LUT, MONOCHROME1 inverted: data/dicom/dicom_image.h) and
// window (data/dicom/window_normalize.h), then [0, 1] -> 0..255; grey stays
// one channel, colour stays RGB. No resize and no augmentation: the picture
// has the file's rows and columns.
#include <optional>
#include <string>

namespace medtrain::cli {

struct InspectPngOptions {
  std::string input;                  // a DICOM file, or a series folder
  std::string out;                    // the PNG to write
  std::optional<int64_t> frame;       // frame (slice for a folder), 0-based; default: the middle one
  std::optional<double> window_center, window_width;  // both or neither
};

// Refuses, naming the flag, an OUT whose folder is missing, that is a folder,
// a symbolic link, a FIFO or a device (DataError: data/io/output_file.h), or
// that is the input file or a file of the input series folder (UserError: the
// picture would replace the DICOM); and a window of width <= 0. Call before
// decoding.
void check_inspect_png_options(const InspectPngOptions& options);

// UserError naming `flag` when an existing OUT is the inspected DICOM, or a
// file of the inspected series folder: writing it would replace the input.
void check_out_is_not_the_input(const std::string& out, const std::string& flag, const std::string& input);

// Writes the PNG (to a temporary name beside OUT, then renamed over it) and
// returns the line that says what was drawn: frame, window and where the
// window came from. Throws UserError for a frame out of range and when OUT
// cannot be written; DataError for the input as inspect does.
std::string write_inspect_png(const InspectPngOptions& options);

}  // namespace medtrain::cli
