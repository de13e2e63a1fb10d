#include "trainer/metrics/word_error_rate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/text/unicode_props.h"
#include "data/text/utf8.h"

namespace medtrain::metrics {
namespace {

namespace text = medtrain::data::text;

// Rule 6 of Note [Transcript normalisation]: hyphens, dashes and slashes.
bool is_separator_mark(char32_t c) {
  return c == U'-' || c == U'/' || c == U'\\' || (c >= 0x2010 && c <= 0x2015) || c == 0x2212 ||
         c == 0x2044 || c == 0x2215;
}

bool is_space(char32_t c) { return text::is_bert_whitespace(c) || is_separator_mark(c); }
bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }
// What can be part of a word after normalisation (digits included).
bool is_word_char(char32_t c) {
  return !is_space(c) && !text::is_bert_punctuation(c) && !text::is_bert_control(c);
}
bool is_letter(char32_t c) { return is_word_char(c) && !is_digit(c); }
bool is_apostrophe(char32_t c) { return c == U'\'' || c == 0x2019; }

constexpr std::array<const char*, 20> kOnes = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen"};
constexpr std::array<const char*, 10> kTens = {"", "", "twenty", "thirty", "forty", "fifty",
                                               "sixty", "seventy", "eighty", "ninety"};

// 1..999 in words, appended to `words`.
void below_thousand(int n, std::vector<std::string>& words) {
  if (n >= 100) {
    words.emplace_back(kOnes[n / 100]);
    words.emplace_back("hundred");
    n %= 100;
  }
  if (n >= 20) {
    words.emplace_back(kTens[n / 10]);
    n %= 10;
  }
  if (n > 0) words.emplace_back(kOnes[n]);
}

// An integer of at most 12 digits without a leading zero (or "0"), in words.
std::vector<std::string> integer_words(std::string_view digits) {
  std::vector<std::string> words;
  const bool spell = digits.size() > 12 || (digits.size() > 1 && digits[0] == '0');
  if (spell) {
    for (char d : digits) words.emplace_back(kOnes[d - '0']);
    return words;
  }
  const int64_t n = std::stoll(std::string(digits));
  if (n == 0) return {"zero"};
  static constexpr std::array<std::pair<int64_t, const char*>, 3> kScales = {
      {{1000000000, "billion"}, {1000000, "million"}, {1000, "thousand"}}};
  int64_t rest = n;
  for (const auto& [scale, name] : kScales) {
    if (rest >= scale) {
      below_thousand(static_cast<int>(rest / scale), words);
      words.emplace_back(name);
      rest %= scale;
    }
  }
  if (rest > 0) below_thousand(static_cast<int>(rest), words);
  return words;
}

// "four" -> "fourth", "twenty" -> "twentieth", "one" -> "first".
std::string ordinal(const std::string& cardinal) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kIrregular = {
      {{"one", "first"}, {"two", "second"}, {"three", "third"}, {"five", "fifth"},
       {"eight", "eighth"}, {"nine", "ninth"}, {"twelve", "twelfth"}}};
  for (const auto& [from, to] : kIrregular) {
    if (cardinal == from) return std::string(to);
  }
  if (cardinal.back() == 'y') return cardinal.substr(0, cardinal.size() - 1) + "ieth";
  return cardinal + "th";
}

constexpr std::array<std::pair<std::u32string_view, const char*>, 5> kUnits = {
    {{U"mm", "millimeters"}, {U"cm", "centimeters"}, {U"ml", "milliliters"},
     {U"mg", "milligrams"}, {U"kg", "kilograms"}}};
constexpr std::array<std::u32string_view, 4> kOrdinalSuffixes = {U"st", U"nd", U"rd", U"th"};

class Normalizer {
 public:
  explicit Normalizer(std::u32string lowered) : s_(std::move(lowered)) {}

  // Rules 3 to 8; the result may hold runs of spaces (collapsed by the caller).
  std::u32string run() {
    while (i_ < s_.size()) {
      const char32_t c = s_[i_];
      if (is_digit(c)) {
        number();
        continue;
      }
      ++i_;
      if (is_space(c)) {
        out_ += U' ';
      } else if (c == U'%') {
        word("percent");
      } else if (c == 0x00B0) {
        word("degrees");
      } else if (is_apostrophe(c)) {
        if (!out_.empty() && is_letter(out_.back()) && i_ < s_.size() && is_letter(s_[i_])) out_ += U'\'';
      } else if (is_word_char(c)) {
        out_ += c;
      }  // else: punctuation or a control character, removed in place
    }
    return std::move(out_);
  }

 private:
  void word(std::string_view ascii) {
    out_ += U' ';
    for (char ch : ascii) out_ += static_cast<char32_t>(ch);
    out_ += U' ';
  }
  bool at(size_t k, std::u32string_view w) const { return s_.compare(k, w.size(), w) == 0; }
  bool word_ends(size_t k) const { return k >= s_.size() || !is_word_char(s_[k]); }
  size_t digits_end(size_t k) const {
    while (k < s_.size() && is_digit(s_[k])) ++k;
    return k;
  }

  // Rules 3 and 4 at s_[i_], an ASCII digit.
  void number() {
    std::string integer;
    size_t k = digits_end(i_);
    for (size_t p = i_; p < k; ++p) integer += static_cast<char>(s_[p]);
    // "," grouping: a first group of 1-3 digits, then "," and exactly 3 digits, repeatedly.
    if (integer.size() <= 3) {
      while (k < s_.size() && s_[k] == U',' && digits_end(k + 1) == k + 4) {
        for (size_t p = k + 1; p < k + 4; ++p) integer += static_cast<char>(s_[p]);
        k += 4;
      }
    }
    std::vector<std::string> words = integer_words(integer);
    const bool decimal = k + 1 < s_.size() && s_[k] == U'.' && is_digit(s_[k + 1]);
    if (decimal) {
      words.emplace_back("point");
      const size_t end = digits_end(k + 1);
      for (size_t p = k + 1; p < end; ++p) words.emplace_back(kOnes[s_[p] - U'0']);
      k = end;
    }
    i_ = k;
    if (!decimal) {
      for (const auto& suffix : kOrdinalSuffixes) {
        if (at(i_, suffix) && word_ends(i_ + suffix.size())) {
          words.back() = ordinal(words.back());
          i_ += suffix.size();
          break;
        }
      }
    }
    for (const auto& w : words) word(w);
    if (i_ == k) unit();
  }

  // A unit after a number: spaces, at most one hyphen, spaces, then the unit as a whole word.
  void unit() {
    size_t k = i_;
    while (k < s_.size() && text::is_bert_whitespace(s_[k])) ++k;
    if (k < s_.size() && s_[k] == U'-') ++k;
    while (k < s_.size() && text::is_bert_whitespace(s_[k])) ++k;
    for (const auto& [abbreviation, name] : kUnits) {
      if (at(k, abbreviation) && word_ends(k + abbreviation.size())) {
        word(name);
        i_ = k + abbreviation.size();
        return;
      }
    }
  }

  std::u32string s_;
  size_t i_ = 0;
  std::u32string out_;
};

// Rules 1 to 9, as code points.
std::u32string normalize_chars(std::string_view bytes) {
  const std::u32string decoded = text::decode_utf8_lossy(bytes).chars;
  std::u32string lowered;
  lowered.reserve(decoded.size());
  for (char32_t c : decoded) {
    char32_t low[2];
    const int n = text::to_lowercase(c, low);
    lowered.append(low, low + n);
  }
  const std::u32string spaced = Normalizer(std::move(lowered)).run();
  std::u32string out;
  for (char32_t c : spaced) {
    if (c != U' ') {
      out += c;
    } else if (!out.empty() && out.back() != U' ') {
      out += U' ';
    }
  }
  if (!out.empty() && out.back() == U' ') out.pop_back();
  return out;
}

std::vector<std::u32string_view> split_words(std::u32string_view s) {
  std::vector<std::u32string_view> words;
  size_t start = 0;
  while (start < s.size()) {
    const size_t end = std::min(s.find(U' ', start), s.size());
    words.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

// Levenshtein distance (unit costs) between two sequences, two rows of the table.
template <typename Seq>
int64_t edit_distance(const Seq& ref, const Seq& hyp) {
  std::vector<int64_t> prev(hyp.size() + 1), cur(hyp.size() + 1);
  for (size_t j = 0; j <= hyp.size(); ++j) prev[j] = static_cast<int64_t>(j);
  for (size_t i = 1; i <= ref.size(); ++i) {
    cur[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= hyp.size(); ++j) {
      const int64_t substitute = prev[j - 1] + (ref[i - 1] == hyp[j - 1] ? 0 : 1);
      cur[j] = std::min({substitute, prev[j] + 1, cur[j - 1] + 1});
    }
    std::swap(prev, cur);
  }
  return prev[hyp.size()];
}

}  // namespace

std::string normalize_transcript(std::string_view text) {
  std::string out;
  for (char32_t c : normalize_chars(text)) data::text::append_utf8(out, c);
  return out;
}

void TranscriptErrors::add(std::string_view reference, std::string_view hypothesis) {
  const std::u32string ref = normalize_chars(reference), hyp = normalize_chars(hypothesis);
  const auto ref_w = split_words(ref), hyp_w = split_words(hyp);
  word_edits += edit_distance(ref_w, hyp_w);
  ref_words += static_cast<int64_t>(ref_w.size());
  char_edits += edit_distance(ref, hyp);
  ref_chars += static_cast<int64_t>(ref.size());
  ++utterances;
}

void TranscriptErrors::merge(const TranscriptErrors& other) {
  word_edits += other.word_edits;
  ref_words += other.ref_words;
  char_edits += other.char_edits;
  ref_chars += other.ref_chars;
  utterances += other.utterances;
}

double TranscriptErrors::wer() const {
  return ref_words == 0 ? std::nan("") : static_cast<double>(word_edits) / static_cast<double>(ref_words);
}

double TranscriptErrors::cer() const {
  return ref_chars == 0 ? std::nan("") : static_cast<double>(char_edits) / static_cast<double>(ref_chars);
}

}  // namespace medtrain::metrics
