#include "data/text/bpe.h"

#include <algorithm>

#include "data/data_error.h"
#include "data/text/utf8.h"

namespace medtrain::data::text {
namespace {

// A candidate merge of symbols[pos] with its next symbol.
struct Candidate {
  uint32_t rank;
  uint32_t pos;
  int32_t new_id;
};

// std heap order: the top is the lowest rank, then the leftmost position.
bool later(const Candidate& a, const Candidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
}

}  // namespace

Bpe::Bpe(std::unordered_map<std::string, int32_t> vocab,
         const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  if (options_.unk_token) {
    const auto it = vocab_.find(*options_.unk_token);
    if (it == vocab_.end()) {
      throw DataError("BPE: unk_token \"" + *options_.unk_token + "\" is not in the vocabulary");
    }
    unk_id_ = it->second;
  }
  const size_t prefix = options_.continuing_subword_prefix.size();
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto id_of = [&](const std::string& token) {
      const auto it = vocab_.find(token);
      if (it == vocab_.end()) {
        throw DataError("BPE: merge " + std::to_string(rank) + " (\"" + a + " " + b + "\"): \"" + token +
                        "\" is not in the vocabulary; the vocab and merges do not belong together");
      }
      return it->second;
    };
    // As HF: the right side's continuing-subword prefix is not repeated in the merged token.
    const std::string merged = a + b.substr(std::min(prefix, b.size()));
    // A repeated pair keeps its last rank, as HF's map does.
    merges_[key(id_of(a), id_of(b))] = {static_cast<uint32_t>(rank), id_of(merged)};
  }
}

const Bpe::Merge* Bpe::find_merge(int32_t a, int32_t b) const {
  const auto it = merges_.find(key(a, b));
  return it == merges_.end() ? nullptr : &it->second;
}

void Bpe::initial_symbols(const NormalizedText& text, Span word, std::vector<Symbol>& symbols) const {
  thread_local std::string token;
  const auto push = [&](int32_t id, uint32_t start, uint32_t end) {
    const auto index = static_cast<int32_t>(symbols.size());
    if (index > 0) symbols.back().next = index;
    symbols.push_back({id, start, end, index - 1, -1, true});
  };
  std::optional<Symbol> unk;  // a pending unk_token (fuse_unk extends it)
  const uint32_t n = word.end - word.start;
  for (uint32_t i = 0; i < n; ++i) {
    token.clear();
    if (i > 0) token += options_.continuing_subword_prefix;
    append_utf8(token, text.chars[word.start + i]);
    if (i + 1 == n) token += options_.end_of_word_suffix;
    const auto it = vocab_.find(token);
    if (it != vocab_.end()) {
      if (unk) push(unk->id, unk->start, unk->end);
      unk.reset();
      push(it->second, i, i + 1);
    } else if (unk_id_ >= 0) {
      if (unk && options_.fuse_unk) {
        unk->end = i + 1;
        continue;
      }
      if (unk) push(unk->id, unk->start, unk->end);
      unk = Symbol{unk_id_, i, i + 1, -1, -1, true};
    }
  }
  if (unk) push(unk->id, unk->start, unk->end);
}

void Bpe::merge_all(std::vector<Symbol>& symbols) const {
  thread_local std::vector<Candidate> heap;
  heap.clear();
  const auto offer = [&](int32_t pos) {
    const Symbol& s = symbols[pos];
    if (s.next < 0) return;
    if (const Merge* m = find_merge(s.id, symbols[s.next].id)) {
      heap.push_back({m->rank, static_cast<uint32_t>(pos), m->new_id});
      std::push_heap(heap.begin(), heap.end(), later);
    }
  };
  for (size_t i = 0; i + 1 < symbols.size(); ++i) offer(static_cast<int32_t>(i));
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    const Merge* m = find_merge(left.id, right.id);
    if (!m || m->new_id != top.new_id) continue;  // a stale candidate: a neighbour has changed
    left.id = top.new_id;
    left.end = right.end;
    left.next = right.next;
    right.alive = false;
    if (left.next >= 0) symbols[left.next].prev = static_cast<int32_t>(top.pos);
    if (left.prev >= 0) offer(left.prev);
    offer(static_cast<int32_t>(top.pos));
  }
}

void Bpe::tokenize(const NormalizedText& text, Span word, std::vector<Piece>& out) const {
  if (word.end == word.start) return;
  if (options_.ignore_merges) {
    thread_local std::string whole;
    whole.clear();
    for (uint32_t i = word.start; i < word.end; ++i) append_utf8(whole, text.chars[i]);
    const auto it = vocab_.find(whole);
    if (it != vocab_.end()) {
      out.push_back({it->second, word});
      return;
    }
  }
  thread_local std::vector<Symbol> symbols;
  symbols.clear();
  initial_symbols(text, word, symbols);
  merge_all(symbols);
  for (const Symbol& s : symbols) {
    if (s.alive) out.push_back({s.id, {word.start + s.start, word.start + s.end}});
  }
}

}  // namespace medtrain::data::text
