#pragma once
// The pixel PHI step of `medtrain deid` for one file (docs/deid.md, "Burned-in
// text"): policy (pixel_policy.h) -> native pixels (pixel_render.h) -> OCR of
// the first frame and of every frame whose text bands change (pixel_ocr.h) ->
// which words are PHI (pixel_phi_match.h) plus fixed rule boxes
// (pixel_regions.h) -> black boxes in every frame (pixel_redact.h).
// Runs on the original dataset, BEFORE deidentify(): the identifying values it
// looks for are still there. Thread-safe for distinct files (one OCR engine per
// thread).
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "data/deid/pixel_policy.h"
#include "data/deid/pixel_regions.h"

class DcmFileFormat;
class DcmDataset;

namespace medtrain::data::deid {

struct PixelOptions {
  PixelMode mode = PixelMode::kClean;
  RegionRules regions;  // empty: OCR only
};

// OCR reads at most this many distinct frames of a multi-frame image; an image
// whose text bands change in more frames is quarantined.
inline constexpr int kMaxOcrFrames = 32;
// Boxes grow by this many stored pixels on every side before they are filled.
inline constexpr int kBoxMargin = 3;
// --verify reports only words read with at least this confidence and height
// (stored pixels): OCR reads "words" into ultrasound speckle.
inline constexpr float kVerifyMinConfidence = 50;
inline constexpr int kVerifyMinHeight = 6;

struct PixelOutcome {
  // "cleaned" (boxes filled), "clean" (checked, nothing found), "quarantined",
  // "not_at_risk", "off" (--pixels off).
  std::string status;
  std::string reason;        // why quarantined / why at risk; names no value
  bool checked = false;      // OCR ran and the pixels are now clean: set the markers
  nlohmann::json record;     // the audit's "pixels" object: never any text read
};

// Checks (and under kClean redacts) the file's pixel data in place. Never throws
// for a bad image: a file at risk that cannot be checked comes back
// "quarantined" with the reason, never unchecked.
PixelOutcome clean_pixels(DcmFileFormat& file, const PixelOptions& options);

// After deidentify(): when outcome.checked, Burned In Annotation (0028,0301)
// becomes NO and the Clean Pixel Data Option (113101) joins De-identification
// Method (0012,0063) and its Code Sequence (0012,0064).
void mark_pixels_cleaned(DcmDataset& ds, const PixelOutcome& outcome);

// For `medtrain deid --verify`: a de-identified file at risk by modality or SOP
// class whose pixels still show PHI-looking text (dates, times, long numbers,
// labels) -> the problem (kinds and boxes, never the text); nullopt otherwise.
std::optional<std::string> check_pixel_text(DcmFileFormat& file);
std::optional<std::string> check_pixel_text(const std::string& path);  // a file that cannot be read: nullopt

}  // namespace medtrain::data::deid
