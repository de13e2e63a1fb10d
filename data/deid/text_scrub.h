#pragma once
// The "C" (clean) action for free text under the Clean Descriptors and Retain
// Patient Characteristics options: the text is kept, but every whole-word,
// case-insensitive occurrence of an identifier found in the same object (name
// components of any PN, patient IDs, accession number, admission ID) is removed.
// This catches the common leak ("CT head for J DOE, MRN 12345"); it cannot catch an
// identifier that appears nowhere else in the object: docs/deid.md says so.
#include <string>
#include <vector>

class DcmItem;

namespace medtrain::data::deid {

class TextScrubber {
 public:
  explicit TextScrubber(std::vector<std::string> identifiers);
  // Collects identifiers from every PN element (any depth) and the ID attributes.
  static TextScrubber from_dataset(DcmItem& dataset);

  std::string scrub(const std::string& text) const;
  const std::vector<std::string>& identifiers() const { return upper_; }

 private:
  std::vector<std::string> upper_;  // upper-case, longest first, each at least 2 characters
};

}  // namespace medtrain::data::deid
