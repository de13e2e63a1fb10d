#pragma once
// Which images may carry burned-in PHI, and what `medtrain deid --pixels` does
// with them (docs/deid.md, "Burned-in text").
//
// At risk: Burned In Annotation (0028,0301) is YES; or it is absent or empty
// and the modality or SOP class is one whose images usually carry text
// (ultrasound, secondary capture, angiography/fluoroscopy, endoscopy and other
// visible-light photography, scanned documents, ...). A file saying NO is
// trusted. Encapsulated PDF is not an image: the runner quarantines it itself.
#include <optional>
#include <string>

class DcmDataset;

namespace medtrain::data::deid {

enum class PixelMode {
  kClean,       // OCR at-risk images, redact what is found (the default)
  kQuarantine,  // at-risk images go to quarantine unread
  kOff,         // no pixel check (a warning says so once per run)
};

// "clean" | "quarantine" | "off"; DataError naming the flag otherwise.
PixelMode parse_pixel_mode(const std::string& text);
const char* pixel_mode_name(PixelMode mode);

// Why the image is at risk ("Burned In Annotation YES", "modality US",
// "SOP class Secondary Capture"), or nullopt. Names no value beyond these.
std::optional<std::string> pixel_risk(DcmDataset& ds);

// The same decision for --verify of an output, where deid itself set Burned In
// Annotation to NO: modality or SOP class only.
std::optional<std::string> pixel_risk_ignoring_attribute(DcmDataset& ds);

}  // namespace medtrain::data::deid
