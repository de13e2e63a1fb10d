#pragma once
// Word and character error rates of ASR transcripts (radiology dictation, English),
// counted on normalised text so that formatting is not scored as an error:
// "Pleural effusion, 5 mm." and "pleural effusion five millimeters" have WER 0.
// Plain C++ on the host, no tensors. A TranscriptErrors is not thread-safe; give
// each thread or rank its own and merge() (or sum the five counts over ranks).
//
// Note [Transcript normalisation]
// Both reference and hypothesis go through normalize_transcript(), in this order:
//  1. UTF-8 is decoded; every ill-formed subsequence becomes one U+FFFD (Note
//     [Invalid UTF-8] in data/text/utf8.h), which is then an ordinary letter: it
//     counts as one character and can be part of a word. Never throws.
//  2. Full Unicode lower case (data/text/unicode_props.h: utf8proc's tables, as Rust's
//     char::to_lowercase; "İ" becomes two code points). No NFC/NFD: a precomposed and a
//     decomposed "é" differ.
//  3. Numbers: a run of ASCII digits, with "," grouping (1 to 3 digits then groups of
//     exactly 3: "1,200", "12,000,000") and a decimal part ("." between digits), is
//     written in American English words without "and": "12" -> "twelve", "1,200" ->
//     "one thousand two hundred", "105" -> "one hundred five", "3.5" -> "three point
//     five", "0.25" -> "zero point two five" (decimals digit by digit). Read digit by
//     digit instead: an integer part with a leading zero ("007" -> "zero zero seven") or
//     of more than 12 digits (IDs). A comma that is not a valid grouping is punctuation
//     ("1,2" -> "one two"); so is a "." not between digits (".5" -> "five", "3." -> "three").
//     Digits are split from letters: "T12" -> "t twelve", "3D" -> "three d".
//     An integer directly followed by st/nd/rd/th as the end of a word is an ordinal:
//     "4th" -> "fourth", "21st" -> "twenty first", "2nd" -> "second".
//  4. Units directly after a number (nothing, spaces or one "-" between: "5mm", "5 mm",
//     "5-mm"), as whole words ("5 mmhg", "5cm2" are not): mm -> millimeters,
//     cm -> centimeters, ml -> milliliters, mg -> milligrams, kg -> kilograms.
//     Elsewhere they stay ("the mm" -> "the mm").
//  5. Symbols spoken as words, anywhere: "%" -> "percent", "°" -> "degrees".
//  6. Hyphens, dashes and slashes (- / \ U+2010..U+2015 U+2212 U+2044 U+2215) and all
//     whitespace become spaces: "x-ray" -> "x ray", "and/or" -> "and or".
//  7. An apostrophe (' or U+2019) between two letters is kept as "'" ("patient's",
//     "patient’s" -> "patient's"); any other apostrophe is dropped ("patients'").
//  8. Other punctuation (ASCII non-alphanumeric printables and Unicode P*, as
//     is_bert_punctuation) and control / format characters are removed in place, without
//     a space: "e.g." -> "eg", "effusion," -> "effusion". Other symbols (±, ², µ) stay.
//  9. Whitespace runs collapse to one space; leading and trailing space is trimmed.
// Words are the space-separated tokens of the result; characters are its code points,
// spaces included (jiwer's cer). Word forms are not otherwise normalised: "millimeter"
// vs "millimeters", "one hundred and five" vs "one hundred five" count as errors.
#include <cstdint>
#include <string>
#include <string_view>

namespace medtrain::metrics {

// The normalisation both sides get before counting (Note [Transcript normalisation]);
// valid UTF-8 out, whatever comes in.
std::string normalize_transcript(std::string_view text);

struct TranscriptErrors {
  int64_t word_edits = 0, ref_words = 0;  // Levenshtein over words (substitutions + deletions + insertions)
  int64_t char_edits = 0, ref_chars = 0;  // over Unicode code points of the normalised text, spaces included (jiwer's cer)
  int64_t utterances = 0;
  void add(std::string_view reference, std::string_view hypothesis);  // normalises both, then counts
  void merge(const TranscriptErrors& other);
  double wer() const;  // word_edits / ref_words; NaN when ref_words == 0
  double cer() const;  // char_edits / ref_chars; NaN when ref_chars == 0
};

}  // namespace medtrain::metrics
