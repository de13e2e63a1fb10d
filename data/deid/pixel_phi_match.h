#pragma once
// Which OCR words on an image are PHI. Two sources of evidence (docs/deid.md,
// "Burned-in text"):
//  - the file's own identifying elements, as a display would print them
//    (PhiVocabulary): name parts, IDs, accession number, dates in six layouts,
//    times, institution, physician and operator names. A word matches when its
//    letters and digits (case folded, punctuation dropped) equal a vocabulary
//    entry, contain one of >= 4 characters, or are within one edit of one when
//    both have >= 5 characters (one OCR error);
//  - patterns that need no vocabulary: any date-like token, a time, a run of
//    >= 5 digits, and the labels DOB / MRN / ID / Name / Acc / Pt / Patient /
//    Accession / Birth with every word after them on the same text row;
//  - fragments: a word touching a PHI word on its row (OCR split a value).
// Safety over precision: a word that matches anything is redacted.
// Pure functions over strings and boxes: no DCMTK, no Tesseract. Thread-safe.
#include <string>
#include <utility>
#include <vector>

namespace medtrain::data::deid {

// One word as OCR returned it, in the coordinates of the image that was read.
struct OcrWord {
  std::string text;  // UTF-8
  int x = 0, y = 0, w = 0, h = 0;
  float confidence = 0;  // 0..100
};

class PhiVocabulary {
 public:
  // Each adds the display forms of one element value; `kind` names the match in
  // the audit ("name" -> "ocr:name"). Values are kept in memory only.
  void add_person_name(const std::string& value, const std::string& kind);  // ^ = and spaces split parts
  void add_identifier(const std::string& value, const std::string& kind);   // whole value, and its space-split parts
  void add_words(const std::string& value, const std::string& kind);        // words of >= 3 characters
  void add_date(const std::string& yyyymmdd);                               // DA (or the date of a DT)
  void add_time(const std::string& hhmmss);                                 // TM (fraction ignored)

  // The kind of the first entry `word` (normalized) matches, or "".
  std::string match(const std::string& normalized_word) const;
  bool empty() const { return entries_.empty(); }

 private:
  void add(const std::string& normalized, const std::string& kind, size_t min_length = 2);
  std::vector<std::pair<std::string, std::string>> entries_;  // normalized form, kind
};

// Lower-case ASCII letters and digits of `text`; everything else dropped.
std::string normalize_word(const std::string& text);

// True when `a` and `b` differ by at most one insertion, deletion or substitution.
bool within_one_edit(const std::string& a, const std::string& b);

// Patterns alone: "pattern:date", "pattern:time", "pattern:digits", "pattern:label", or "".
std::string pattern_kind(const std::string& text);

// For each word, "" (not PHI) or the reason it is PHI ("ocr:name", "pattern:date",
// "pattern:after-label", ...). Words after a label on the same row are PHI.
std::vector<std::string> classify_words(const std::vector<OcrWord>& words, const PhiVocabulary& vocabulary);

}  // namespace medtrain::data::deid
