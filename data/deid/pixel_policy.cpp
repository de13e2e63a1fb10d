#include "data/deid/pixel_policy.h"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>

#include <array>
#include <cstring>
#include <string_view>

#include "data/data_error.h"

namespace medtrain::data::deid {
namespace {

// Modalities whose images usually carry text in the pixels.
constexpr std::array<const char*, 13> kTextModalities = {"US", "IVUS", "SC", "XA", "RF", "ES", "XC",
                                                         "OT", "DOC", "GM", "SM", "OP", "PX"};

struct SopFamily {
  const char* prefix;  // a UID, or a UID prefix ending in '.'
  const char* name;
};
constexpr std::array<SopFamily, 11> kTextSopClasses = {{
    {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture"},  // and .7.1-.7.4 (multi-frame), below
    {"1.2.840.10008.5.1.4.1.1.7.", "Multi-frame Secondary Capture"},
    {"1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound"},
    {"1.2.840.10008.5.1.4.1.1.6.2", "Enhanced US Volume"},
    {"1.2.840.10008.5.1.4.1.1.3.1", "Ultrasound Multi-frame"},
    {"1.2.840.10008.5.1.4.1.1.12.1", "X-Ray Angiographic"},  // and .12.1.1 enhanced
    {"1.2.840.10008.5.1.4.1.1.12.1.", "Enhanced XA"},
    {"1.2.840.10008.5.1.4.1.1.12.2", "X-Ray Radiofluoroscopic"},
    {"1.2.840.10008.5.1.4.1.1.12.2.", "Enhanced XRF"},
    {"1.2.840.10008.5.1.4.1.1.77.1.", "VL (endoscopic, microscopic, photographic)"},
    {"1.2.840.10008.5.1.4.1.1.104.", "Encapsulated Document"},
}};

std::string get(DcmDataset& ds, const DcmTagKey& key) {
  OFString s;
  if (ds.findAndGetOFString(key, s).bad()) return "";
  std::string t = s.c_str();
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

std::optional<std::string> by_kind(DcmDataset& ds) {
  const std::string modality = get(ds, DCM_Modality);
  for (const char* m : kTextModalities) {
    if (modality == m) return "modality " + modality;
  }
  const std::string sop = get(ds, DCM_SOPClassUID);
  for (const auto& f : kTextSopClasses) {
    const std::string_view p = f.prefix;
    const bool family = p.back() == '.';
    if ((family && sop.compare(0, p.size(), p) == 0) || (!family && sop == p)) {
      return std::string("SOP class ") + f.name;
    }
  }
  return std::nullopt;
}

}  // namespace

PixelMode parse_pixel_mode(const std::string& text) {
  if (text == "clean") return PixelMode::kClean;
  if (text == "quarantine") return PixelMode::kQuarantine;
  if (text == "off") return PixelMode::kOff;
  throw DataError("--pixels " + text + ": expected clean, quarantine or off");
}

const char* pixel_mode_name(PixelMode mode) {
  switch (mode) {
    case PixelMode::kClean: return "clean";
    case PixelMode::kQuarantine: return "quarantine";
    case PixelMode::kOff: return "off";
  }
  return "?";
}

std::optional<std::string> pixel_risk(DcmDataset& ds) {
  const std::string burned = get(ds, DCM_BurnedInAnnotation);
  if (burned == "YES") return std::string("Burned In Annotation YES");
  if (burned == "NO") return std::nullopt;  // trusted: the device says it printed nothing
  return by_kind(ds);
}

std::optional<std::string> pixel_risk_ignoring_attribute(DcmDataset& ds) { return by_kind(ds); }

}  // namespace medtrain::data::deid
