#include "data/deid/pixel_phi_match.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>

namespace medtrain::data::deid {
namespace {

constexpr std::array<const char*, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};

// Labels whose following words are PHI. Compared with the normalized word.
constexpr std::array<const char*, 14> kLabels = {"dob",  "mrn",     "id",        "name",  "acc",  "accno", "pt",
                                                 "ptid", "patient", "accession", "birth", "born", "pid",   "sex"};

std::vector<std::string> split(const std::string& s, const std::string& separators) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (separators.find(c) != std::string::npos) {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  return parts;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_label(const std::string& normalized) {
  return std::any_of(kLabels.begin(), kLabels.end(), [&](const char* l) { return normalized == l; });
}

// "Name:DOE", "ID:123": a label glued to its value.
bool starts_with_label(const std::string& text) {
  const std::string t = lower(text);
  const auto colon = t.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  return is_label(normalize_word(t.substr(0, colon)));
}

bool same_row(const OcrWord& a, const OcrWord& b) {
  const int overlap = std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y);
  return overlap * 2 >= std::min(a.h, b.h);
}

// On one row with a horizontal gap below half the text height (or overlapping).
bool touching(const OcrWord& a, const OcrWord& b) {
  if (!same_row(a, b)) return false;
  const int gap = std::max(a.x, b.x) - std::min(a.x + a.w, b.x + b.w);
  return gap * 2 < std::max(a.h, b.h);
}

}  // namespace

std::string normalize_word(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x80 && std::isalnum(c)) out += static_cast<char>(std::tolower(c));
  }
  return out;
}

bool within_one_edit(const std::string& a, const std::string& b) {
  if (a.size() > b.size()) return within_one_edit(b, a);
  if (b.size() - a.size() > 1) return false;
  size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  if (i == a.size()) return true;  // equal, or b has one more character at the end
  if (a.size() == b.size()) return a.compare(i + 1, std::string::npos, b, i + 1, std::string::npos) == 0;
  return a.compare(i, std::string::npos, b, i + 1, std::string::npos) == 0;
}

void PhiVocabulary::add(const std::string& normalized, const std::string& kind, size_t min_length) {
  if (normalized.size() < min_length) return;
  for (const auto& e : entries_) {
    if (e.first == normalized) return;
  }
  entries_.emplace_back(normalized, kind);
}

void PhiVocabulary::add_person_name(const std::string& value, const std::string& kind) {
  add(normalize_word(value), kind);
  for (const auto& part : split(value, "^= ,")) add(normalize_word(part), kind);
}

void PhiVocabulary::add_identifier(const std::string& value, const std::string& kind) {
  for (const auto& one : split(value, "\\")) {  // multi-valued (Other Patient IDs)
    add(normalize_word(one), kind, 1);
    for (const auto& part : split(one, " -/_.")) add(normalize_word(part), kind, 3);
  }
}

void PhiVocabulary::add_words(const std::string& value, const std::string& kind) {
  add(normalize_word(value), kind, 4);
  for (const auto& part : split(value, " \\^,;/-&()")) add(normalize_word(part), kind, 3);
}

void PhiVocabulary::add_date(const std::string& value) {
  const std::string d = value.substr(0, std::min<size_t>(8, value.size()));
  if (d.size() != 8 || !all_digits(d)) return;
  const std::string yyyy = d.substr(0, 4), mm = d.substr(4, 2), dd = d.substr(6, 2), yy = d.substr(2, 2);
  const std::string m = mm[0] == '0' ? mm.substr(1) : mm, day = dd[0] == '0' ? dd.substr(1) : dd;
  const int month = std::stoi(mm);
  // The layouts of the brief, compared without punctuation: m/d/yyyy,
  // mm/dd/yyyy, dd.mm.yyyy (and dd/mm/yyyy), yyyy-mm-dd, yyyymmdd, d-Mon-yyyy;
  // plus two-digit years, which monitors print too.
  for (const std::string& f : {m + day + yyyy, mm + dd + yyyy, dd + mm + yyyy, yyyy + mm + dd, mm + dd + yy,
                               dd + mm + yy, day + m + yyyy}) {
    add(f, "date", 1);
  }
  if (month >= 1 && month <= 12) {
    const std::string mon = kMonths[month - 1];
    for (const std::string& f : {day + mon + yyyy, dd + mon + yyyy, mon + day + yyyy, mon + dd + yyyy, day + mon + yy}) {
      add(f, "date", 1);
    }
  }
}

void PhiVocabulary::add_time(const std::string& value) {
  const std::string t = value.substr(0, std::min<size_t>(6, value.size()));
  if (t.size() < 4 || !all_digits(t)) return;
  add(t, "time", 1);  // hhmmss (and hh:mm:ss once punctuation is dropped)
  add(t.substr(0, 4), "time", 1);  // hh:mm
}

std::string PhiVocabulary::match(const std::string& word) const {
  if (word.empty()) return "";
  for (const auto& [entry, kind] : entries_) {
    if (word == entry) return kind;
  }
  for (const auto& [entry, kind] : entries_) {
    if (entry.size() >= 4 && word.find(entry) != std::string::npos) return kind;  // label glued to a value
    if (word.size() >= 4 && entry.find(word) != std::string::npos) return kind;   // OCR split a value
    if (word.size() >= 5 && entry.size() >= 5 && within_one_edit(word, entry)) return kind;
  }
  return "";
}

std::string pattern_kind(const std::string& text) {
  static const std::regex numeric_date(R"(\d{1,4}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4})");
  static const std::regex month_date(
      R"((\d{1,2}[\s\-.]*(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[\s\-.,]*\d{2,4})|)"
      R"(((jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[\s\-.]*\d{1,2}[\s,]+\d{4}))");
  static const std::regex time(R"(\d{1,2}:\d{2}(:\d{2})?)");
  const std::string t = lower(text);
  if (std::regex_search(t, numeric_date) || std::regex_search(t, month_date)) return "pattern:date";
  if (std::regex_search(t, time)) return "pattern:time";
  if (std::count_if(t.begin(), t.end(), [](unsigned char c) { return std::isdigit(c); }) >= 5) return "pattern:digits";
  if (is_label(normalize_word(t)) || starts_with_label(t)) return "pattern:label";
  return "";
}

std::vector<std::string> classify_words(const std::vector<OcrWord>& words, const PhiVocabulary& vocabulary) {
  std::vector<std::string> kinds(words.size());
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string v = vocabulary.match(normalize_word(words[i].text));
    kinds[i] = v.empty() ? pattern_kind(words[i].text) : "ocr:" + v;
  }
  // Words after a label, on the same row (vertical overlap of at least half the
  // smaller height), chained left to right with gaps of at most 4 heights.
  std::vector<size_t> order(words.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return words[a].x < words[b].x; });
  for (size_t i = 0; i < words.size(); ++i) {
    if (kinds[i] != "pattern:label") continue;
    const OcrWord& label = words[i];
    int right = label.x + label.w;
    for (size_t j : order) {
      const OcrWord& w = words[j];
      if (j == i || w.x < label.x + label.w / 2) continue;
      if (!same_row(w, label)) continue;
      if (w.x - right > 4 * std::max(label.h, w.h)) break;
      right = std::max(right, w.x + w.w);
      if (kinds[j].empty()) kinds[j] = "pattern:after-label";
    }
  }
  // Note [Fragments]: OCR splits one value into pieces at odd places
  // ("KOWALC" "ZYK^MARGARET" "HE"); a piece that touches a PHI word on its row
  // (gap under half the text height) is PHI too, repeated until nothing changes.
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t i = 0; i < words.size(); ++i) {
      if (!kinds[i].empty()) continue;
      for (size_t j = 0; j < words.size() && kinds[i].empty(); ++j) {
        if (kinds[j].empty() || !touching(words[i], words[j])) continue;
        kinds[i] = "pattern:fragment";
        grew = true;
      }
    }
  }
  return kinds;
}

}  // namespace medtrain::data::deid
