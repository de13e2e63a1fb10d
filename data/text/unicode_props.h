#pragma once
// Character classes and case/decomposition mappings used by the BERT pipeline,
// defined as Hugging Face `tokenizers` defines them (which follows Google's BERT),
// answered from utf8proc's Unicode tables.
//
// Note [Unicode versions]
// HF takes whitespace and lower-casing from Rust's std, NFD from
// unicode-normalization, and categories (control, punctuation, Mn) from the
// unicode_categories crate, whose tables are older than utf8proc's. Characters
// whose category changed or that were assigned since can therefore differ;
// tests/data/text/wordpiece_parity_test.py sweeps every code point of planes 0-1 and lists
// such differences instead of hiding them.
#include <cstddef>

namespace medtrain::data::text {

// \t \n \r and every White_Space code point (Rust char::is_whitespace).
bool is_bert_whitespace(char32_t c);
// Cc, Cf, Co (and Cs) except \t \n \r: removed by clean_text.
bool is_bert_control(char32_t c);
// Every ASCII non-alphanumeric printable (so $ + < = > ^ ` | ~ too) and the P* categories.
bool is_bert_punctuation(char32_t c);
// The CJK ideograph blocks that BERT surrounds with spaces (not Hangul, Kana).
bool is_cjk_ideograph(char32_t c);
// General category Mn (removed after NFD when stripping accents).
bool is_nonspacing_mark(char32_t c);

// Full lower-case mapping as Rust's char::to_lowercase: writes 1 or 2 code
// points to out[] and returns how many.
int to_lowercase(char32_t c, char32_t out[2]);
// Canonical decomposition (NFD) of one code point into out[] (capacity `cap`;
// 4 suffices for every canonical decomposition); returns the count.
int nfd_decompose(char32_t c, char32_t* out, int cap);

}  // namespace medtrain::data::text
