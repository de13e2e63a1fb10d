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
// undefined lengths with item / sequence delimiters, encapsulated pixel data
// (flat fragments, not nesting), UN of undefined length (a sequence in implicit
// VR little endian, PS3.5 6.2.2) and, in implicit VR, sequences known to the
// data dictionary. Data that ends early ends the scan without a problem: DCMTK
// cannot nest deeper than the bytes that are there, and reports the truncation
// itself. Thread-safe; no state.
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
