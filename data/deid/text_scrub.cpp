#include "data/deid/text_scrub.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <algorithm>
#include <cctype>

namespace medtrain::data::deid {
namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// PN "Doe^John^^Dr=..." and multi-valued strings -> the words in them.
void add_words(const std::string& value, std::vector<std::string>& out) {
  std::string word;
  for (char c : value + "^") {
    if (c == '^' || c == '=' || c == '\\' || c == ' ' || c == ',') {
      if (word.size() >= 2) out.push_back(word);
      word.clear();
    } else {
      word.push_back(c);
    }
  }
}

void collect_names(DcmItem& item, std::vector<std::string>& out) {
  for (unsigned long i = 0; i < item.card(); ++i) {
    DcmElement* el = item.getElement(i);
    if (el->ident() == EVR_PN) {
      OFString s;
      if (el->getOFStringArray(s).good()) add_words(s.c_str(), out);
    } else if (el->ident() == EVR_SQ) {
      auto* seq = static_cast<DcmSequenceOfItems*>(el);
      for (unsigned long k = 0; k < seq->card(); ++k) collect_names(*seq->getItem(k), out);
    }
  }
}

}  // namespace

TextScrubber::TextScrubber(std::vector<std::string> identifiers) {
  for (auto& s : identifiers) {
    if (s.size() >= 2) upper_.push_back(upper(s));
  }
  std::sort(upper_.begin(), upper_.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  upper_.erase(std::unique(upper_.begin(), upper_.end()), upper_.end());
}

TextScrubber TextScrubber::from_dataset(DcmItem& dataset) {
  std::vector<std::string> ids;
  collect_names(dataset, ids);
  for (const DcmTagKey& key : {DCM_PatientID, DCM_RETIRED_OtherPatientIDs, DCM_AccessionNumber, DCM_AdmissionID,
                               DCM_RETIRED_MedicalRecordLocator}) {
    OFString s;
    if (dataset.findAndGetOFStringArray(key, s).good()) add_words(s.c_str(), ids);
  }
  return TextScrubber(std::move(ids));
}

std::string TextScrubber::scrub(const std::string& text) const {
  std::string out = text;
  for (const auto& id : upper_) {
    std::string up = upper(out);
    size_t pos = 0;
    while ((pos = up.find(id, pos)) != std::string::npos) {
      const size_t end = pos + id.size();
      const bool whole = (pos == 0 || !word_char(up[pos - 1])) && (end == up.size() || !word_char(up[end]));
      if (!whole) {
        ++pos;
        continue;
      }
      out.erase(pos, id.size());
      up.erase(pos, id.size());
    }
  }
  return out;
}

}  // namespace medtrain::data::deid
