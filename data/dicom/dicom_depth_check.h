#pragma once
// Sequence nesting depth of a DICOM file, measured on its raw bytes before DCMTK
// parses it.
//
// Note [Nesting before parsing]: DCMTK reads sequences recursively (one C++ stack
// frame chain per level), so a file of a few hundred kilobytes holding 10,000
// nested sequences overflows the stack and kills the process: `inspect`, `deid`
// (even with --on-error skip), `deid --verify` and the training readers all died
// on one such file. Every place medtrain hands a file to DCMTK first runs this
// scan, which walks tags and lengths with an explicit stack of at most
// 2 * limit + 2 frames (never recursion), skips values without reading them
// (lseek on files), and stops as soon as the depth passes the limit. Real files
// rarely nest more than 10 levels (SR content trees are the deepest).
//
// What it understands: explicit and implicit VR little endian, explicit VR big
// endian, deflated explicit VR little endian (inflated on the fly), defined and
// undefined lengths with item / sequence delimiters (which end items and
// sequences of defined length too, as in DCMTK), encapsulated pixel data (flat
// fragments, not nesting), VRs read exactly as DCMTK 3.6.7 reads them (Note
// [Reading as DCMTK reads] in the .cpp: unknown VRs included, UN and unknown VRs
// of undefined length being sequences in implicit VR little endian), sequences
// the data dictionary knows in implicit VR, and private implicit values that
// start with an item. Data that ends early ends the scan without a problem:
// DCMTK cannot nest deeper than the bytes that are there, and reports the
// truncation itself. Thread-safe; no state.
//
// The scan is a model of DCMTK's reader, so DCMTK is also run under a stack
// budget (data/dicom/dicom_guarded_read.h, Note [Stack budget]): a file the model
// misreads fails to parse instead of overflowing the stack.
#include <cstddef>
#include <optional>
#include <string>

namespace medtrain::data {

inline constexpr int kMaxSequenceDepth = 64;

// `data`: a whole file as stored (Part 10 with preamble and "DICM", or a bare
// data set). Returns a one-line problem ("sequences nested more than 64 levels
// deep (at byte N) ...") without any path or value, or nullopt when the file may
// be parsed.
std::optional<std::string> check_sequence_depth(const char* data, size_t size, int limit = kMaxSequenceDepth);

// The same for a file on disk, reading only tags and lengths. A file that cannot
// be opened or is not a regular file yields nullopt: the caller's own open
// reports that problem in its words.
std::optional<std::string> check_sequence_depth_file(const std::string& path, int limit = kMaxSequenceDepth);

}  // namespace medtrain::data
