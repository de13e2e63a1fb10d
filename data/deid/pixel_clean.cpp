#include "data/deid/pixel_clean.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_set>

#include "data/data_error.h"
#include "data/deid/dicom_file.h"
#include "data/deid/pixel_ocr.h"
#include "data/deid/pixel_phi_match.h"
#include "data/deid/pixel_redact.h"
#include "data/deid/pixel_render.h"

namespace medtrain::data::deid {
namespace {

std::string get_all(DcmDataset& ds, const DcmTagKey& key) {
  OFString s;
  return ds.findAndGetOFStringArray(key, s).good() ? s.c_str() : "";
}

// What a display of this file could print, from its own elements.
PhiVocabulary vocabulary_of(DcmDataset& ds) {
  PhiVocabulary v;
  v.add_person_name(get_all(ds, DCM_PatientName), "name");
  v.add_identifier(get_all(ds, DCM_PatientID), "id");
  v.add_identifier(get_all(ds, DCM_RETIRED_OtherPatientIDs), "id");
  DcmSequenceOfItems* others = nullptr;
  if (ds.findAndGetSequence(DCM_OtherPatientIDsSequence, others).good() && others != nullptr) {
    for (unsigned long i = 0; i < others->card(); ++i) {
      OFString id;
      if (others->getItem(i)->findAndGetOFString(DCM_PatientID, id).good()) v.add_identifier(id.c_str(), "id");
    }
  }
  v.add_identifier(get_all(ds, DCM_AccessionNumber), "accession");
  v.add_identifier(get_all(ds, DCM_StudyID), "id");
  for (const auto& key : {DCM_StudyDate, DCM_SeriesDate, DCM_AcquisitionDate, DCM_ContentDate, DCM_PatientBirthDate}) {
    v.add_date(get_all(ds, key));
  }
  v.add_date(get_all(ds, DCM_AcquisitionDateTime));
  for (const auto& key : {DCM_StudyTime, DCM_SeriesTime, DCM_AcquisitionTime, DCM_ContentTime}) {
    v.add_time(get_all(ds, key));
  }
  v.add_words(get_all(ds, DCM_InstitutionName), "institution");
  v.add_words(get_all(ds, DCM_InstitutionalDepartmentName), "institution");
  v.add_words(get_all(ds, DCM_StationName), "station");
  v.add_person_name(get_all(ds, DCM_ReferringPhysicianName), "physician");
  v.add_person_name(get_all(ds, DCM_PerformingPhysicianName), "physician");
  v.add_person_name(get_all(ds, DCM_NameOfPhysiciansReadingStudy), "physician");
  v.add_person_name(get_all(ds, DCM_OperatorsName), "operator");
  return v;
}

// The frames OCR reads: the first, then each whose text bands differ from all
// frames read so far. nullopt when that is more than kMaxOcrFrames.
std::optional<std::vector<int64_t>> frames_to_read(const NativeImage& img) {
  std::vector<int64_t> frames;
  std::unordered_set<uint64_t> seen;
  for (int64_t f = 0; f < img.layout.frames; ++f) {
    if (!seen.insert(text_band_hash(img, f)).second) continue;
    if (static_cast<int>(frames.size()) == kMaxOcrFrames) return std::nullopt;
    frames.push_back(f);
  }
  return frames;
}

GreyImage rows_of(const GreyImage& g, int y0, int y1) {
  GreyImage out;
  out.width = g.width;
  out.height = y1 - y0;
  out.pixels.assign(g.pixels.begin() + static_cast<size_t>(y0) * g.width, g.pixels.begin() + static_cast<size_t>(y1) * g.width);
  return out;
}

// Words of one rendering: the whole image, and its top and bottom text bands
// alone. Note [Bands on their own]: Tesseract's page layout analysis can drop a
// whole text line when most of the page is image (dark text on a bright header
// band over speckle came back empty); the band by itself reads fine.
// Note [Cost of a pass]: OCR time grows with the pixels read, and speckle makes
// Tesseract try "words" everywhere; the whole image is read at up to 2x, the text
// bands (where overlays usually are, in smaller fonts) at up to 3x.
constexpr int kWholeImageMaxScale = 2;

std::vector<OcrWord> read_view(OcrEngine& engine, const GreyImage& view) {
  std::vector<OcrWord> words = engine.read(view, kWholeImageMaxScale);
  const int band = std::max(1, static_cast<int>(std::ceil(view.height * kBandShare)));
  if (band * 2 >= view.height) return words;
  for (int y0 : {0, view.height - band}) {
    for (OcrWord w : engine.read(rows_of(view, y0, y0 + band))) {
      w.y += y0;
      words.push_back(std::move(w));
    }
  }
  return words;
}

struct Found {
  std::vector<PixelBox> boxes;
  std::set<std::string> kinds;
  int frames_read = 0;
};

// Words --verify ignores: speckle that OCR turns into "letters" (tiny, or read
// with low confidence). Cleaning ignores nothing (safety over precision).
struct WordFilter {
  float min_confidence = 0;
  int min_height = 0;
};

// OCR of the chosen frames; a word's box counts for every frame.
Found find_phi(const NativeImage& img, const std::vector<int64_t>& frames, const PhiVocabulary& vocabulary,
               WordFilter filter = {}) {
  Found found;
  OcrEngine& engine = ocr_engine_for_this_thread();
  for (int64_t f : frames) {
    for (const GreyImage& view : render_frame_views(img, f)) {
      const std::vector<OcrWord> words = read_view(engine, view);
      const std::vector<std::string> kinds = classify_words(words, vocabulary);
      for (size_t i = 0; i < words.size(); ++i) {
        if (kinds[i].empty() || words[i].confidence < filter.min_confidence || words[i].h < filter.min_height) continue;
        const PixelBox box = {words[i].x, words[i].y, words[i].w, words[i].h};
        if (std::find(found.boxes.begin(), found.boxes.end(), box) == found.boxes.end()) found.boxes.push_back(box);
        found.kinds.insert(kinds[i]);
      }
    }
    ++found.frames_read;
  }
  return found;
}

std::string get(DcmDataset& ds, const DcmTagKey& key) {
  OFString s;
  return ds.findAndGetOFString(key, s).good() ? s.c_str() : "";
}

PixelOutcome quarantined(std::string reason, nlohmann::json record) {
  PixelOutcome o;
  o.status = "quarantined";
  o.reason = std::move(reason);
  record["status"] = o.status;
  record["reason"] = o.reason;
  o.record = std::move(record);
  return o;
}

PixelOutcome check_and_redact(DcmDataset& ds, const PixelOptions& options, nlohmann::json record) {
  NativeImage img = open_native_pixels(ds);
  record["frames"] = img.layout.frames;
  const auto frames = frames_to_read(img);
  if (!frames) {
    return quarantined(fmt::format("overlay text bands change in more than {} frames (OCR reads at most {})",
                                   kMaxOcrFrames, kMaxOcrFrames),
                       std::move(record));
  }
  Found found = find_phi(img, *frames, vocabulary_of(ds));
  std::vector<PixelBox> boxes = grow_and_clip(found.boxes, kBoxMargin, img.layout.rows, img.layout.cols);
  for (const RegionRule* rule : options.regions.matching(get(ds, DCM_Manufacturer), get(ds, DCM_ManufacturerModelName),
                                                         img.layout.rows, img.layout.cols)) {
    std::vector<PixelBox> rb(rule->boxes.begin(), rule->boxes.end());
    for (const auto& b : grow_and_clip(rb, 0, img.layout.rows, img.layout.cols)) boxes.push_back(b);
    found.kinds.insert("rule:" + rule->id);
  }
  record["ocr_frames"] = found.frames_read;
  record["matches"] = found.kinds;
  auto list = nlohmann::json::array();
  for (const auto& b : boxes) list.push_back({"all", b[0], b[1], b[2], b[3]});
  record["boxes"] = list;
  PixelOutcome o;
  o.checked = true;
  if (boxes.empty()) {
    keep_only_stored_pixels(ds);
    o.status = "clean";
  } else {
    fill_black(img, boxes);
    keep_only_native_pixels(ds);
    o.status = "cleaned";
  }
  record["status"] = o.status;
  o.record = std::move(record);
  return o;
}

}  // namespace

PixelOutcome clean_pixels(DcmFileFormat& file, const PixelOptions& options) {
  DcmDataset& ds = *file.getDataset();
  if (options.mode == PixelMode::kOff) return {"off", "", false, {{"status", "off"}}};
  const std::optional<std::string> risk = pixel_risk(ds);
  if (!risk) return {"not_at_risk", "", false, {{"status", "not_at_risk"}}};
  nlohmann::json record = {{"at_risk", *risk}};
  if (!ds.tagExists(DCM_PixelData)) return {"not_at_risk", "", false, {{"status", "not_at_risk"}, {"at_risk", *risk},
                                                                      {"note", "no Pixel Data"}}};
  if (options.mode == PixelMode::kQuarantine) {
    return quarantined("pixels at risk of burned-in text (" + *risk + ") and --pixels quarantine", std::move(record));
  }
  try {
    return check_and_redact(ds, options, record);
  } catch (const std::exception& e) {
    return quarantined(std::string("pixel PHI check failed: ") + e.what(), std::move(record));
  }
}

void mark_pixels_cleaned(DcmDataset& ds, const PixelOutcome& outcome) {
  if (!outcome.checked) return;
  constexpr const char* kValue = "113101";
  constexpr const char* kMeaning = "Clean Pixel Data Option";
  ds.putAndInsertString(DCM_BurnedInAnnotation, "NO");
  OFString methods;
  ds.findAndGetOFStringArray(DCM_DeidentificationMethod, methods);
  std::string m = methods.c_str();
  if (m.find(kMeaning) == std::string::npos) {
    // Before the trailing "medtrain deid <version>" value, after the option names.
    const auto tool = m.rfind("\\medtrain deid");
    m = tool == std::string::npos ? (m.empty() ? kMeaning : m + "\\" + kMeaning)
                                  : m.substr(0, tool) + "\\" + kMeaning + m.substr(tool);
    ds.putAndInsertOFStringArray(DCM_DeidentificationMethod, m.c_str());
  }
  DcmItem* item = nullptr;
  if (ds.findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, item, -2).bad() || item == nullptr) {
    throw DataError("cannot add an item to De-identification Method Code Sequence (0012,0064)");
  }
  item->putAndInsertString(DCM_CodeValue, kValue);
  item->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
  item->putAndInsertString(DCM_CodeMeaning, kMeaning);
}

std::optional<std::string> check_pixel_text(DcmFileFormat& file) {
  DcmDataset& ds = *file.getDataset();
  if (!pixel_risk_ignoring_attribute(ds) || !ds.tagExists(DCM_PixelData)) return std::nullopt;
  try {
    const NativeImage img = open_native_pixels(ds);
    const auto frames = frames_to_read(img);
    if (!frames) return fmt::format("overlay text bands change in more than {} frames: not checked", kMaxOcrFrames);
    const Found found = find_phi(img, *frames, PhiVocabulary{}, WordFilter{kVerifyMinConfidence, kVerifyMinHeight});
    if (found.boxes.empty()) return std::nullopt;
    std::string kinds;
    for (const auto& k : found.kinds) kinds += (kinds.empty() ? "" : ",") + k;
    const PixelBox& b = found.boxes.front();
    return fmt::format("pixels show text that looks like PHI ({}; {} box(es), first at x={} y={} {}x{})", kinds,
                       found.boxes.size(), b[0], b[1], b[2], b[3]);
  } catch (const std::exception& e) {
    return std::string("pixel data cannot be checked for burned-in text: ") + e.what();
  }
}

std::optional<std::string> check_pixel_text(const std::string& path) {
  DcmFileFormat file;
  if (load_dicom(path, file)) return std::nullopt;  // check_deidentified reports unreadable files
  return check_pixel_text(file);
}

}  // namespace medtrain::data::deid
