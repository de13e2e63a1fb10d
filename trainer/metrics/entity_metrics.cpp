#include "trainer/metrics/entity_metrics.h"

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace medtrain::metrics {
namespace {

// Messages are built with a stream rather than fmt: see Note [No fmt in metrics]
// in progress_format.cpp.
template <typename... Args>
[[noreturn]] void fail(const char* where, const Args&... parts) {
  std::ostringstream message;
  message << where << ": ";
  (message << ... << parts);
  throw std::invalid_argument(message.str());
}

// Byte length of the UTF-8 sequence a lead byte starts (1 for ASCII and for a
// stray continuation byte), so that the tag letter is one character as in Python.
size_t utf8_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// seqeval's `tag = chunk[0]; type_ = chunk[1:].split('-', maxsplit=1)[-1] or '_'`.
std::pair<std::string, std::string> split_tag(const std::string& chunk, size_t position) {
  if (chunk.empty()) {
    fail("bio_entities", "tag ", position, " is an empty string; expected \"O\", \"B-TYPE\" or \"I-TYPE\"");
  }
  const size_t letter = std::min(utf8_length(static_cast<unsigned char>(chunk[0])), chunk.size());
  std::string rest = chunk.substr(letter);
  const size_t dash = rest.find('-');
  if (dash != std::string::npos) rest = rest.substr(dash + 1);
  return {chunk.substr(0, letter), rest.empty() ? "_" : rest};
}

// seqeval.metrics.sequence_labeling.end_of_chunk, rule for rule.
bool end_of_chunk(const std::string& prev_tag, const std::string& tag,
                  const std::string& prev_type, const std::string& type) {
  if (prev_tag == "E" || prev_tag == "S") return true;
  if ((prev_tag == "B" || prev_tag == "I") && (tag == "B" || tag == "S" || tag == "O")) return true;
  return prev_tag != "O" && prev_tag != "." && prev_type != type;
}

// seqeval.metrics.sequence_labeling.start_of_chunk, rule for rule.
bool start_of_chunk(const std::string& prev_tag, const std::string& tag,
                    const std::string& prev_type, const std::string& type) {
  if (tag == "B" || tag == "S") return true;
  if ((prev_tag == "E" || prev_tag == "S" || prev_tag == "O") && (tag == "E" || tag == "I")) {
    return true;
  }
  return tag != "O" && tag != "." && prev_type != type;
}

using Key = std::tuple<std::string, int64_t, int64_t>;

std::set<Key> entity_set(const std::vector<std::string>& tags) {
  std::set<Key> out;
  for (auto& e : bio_entities(tags)) out.emplace(std::move(e.type), e.start, e.end);
  return out;
}

void check_type_name(const char* where, const std::string& type) {
  if (type == "micro" || type == "macro") {
    fail(where, "entity type \"", type, "\" collides with the \"", type,
         "\" average that scores() reports; rename the type in the tag set");
  }
}

double ratio(int64_t numerator, int64_t denominator) {
  return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}

// seqeval's F: 2PR / (P + R) from the rounded P and R, 0 when both are 0.
PRF make_prf(int64_t true_positives, int64_t predicted, int64_t gold) {
  PRF s;
  s.precision = ratio(true_positives, predicted);
  s.recall = ratio(true_positives, gold);
  const double denominator = s.precision + s.recall;
  s.f1 = denominator == 0 ? 0.0 : 2 * s.precision * s.recall / denominator;
  s.support = gold;
  return s;
}

}  // namespace

std::vector<Entity> bio_entities(const std::vector<std::string>& tags) {
  std::vector<Entity> chunks;
  std::string prev_tag = "O", prev_type;  // seqeval starts with prev_type '' (not 'O''s '_')
  int64_t begin = 0;
  const auto n = static_cast<int64_t>(tags.size());
  for (int64_t i = 0; i <= n; ++i) {  // one "O" past the end closes an open chunk
    auto [tag, type] = i < n ? split_tag(tags[static_cast<size_t>(i)], static_cast<size_t>(i))
                             : std::pair<std::string, std::string>{"O", "_"};
    if (end_of_chunk(prev_tag, tag, prev_type, type)) chunks.push_back({prev_type, begin, i});
    if (start_of_chunk(prev_tag, tag, prev_type, type)) begin = i;
    prev_tag = std::move(tag);
    prev_type = std::move(type);
  }
  return chunks;
}

void EntityCounts::add(const std::vector<std::string>& gold, const std::vector<std::string>& pred) {
  if (gold.size() != pred.size()) {
    fail("EntityCounts::add", "gold has ", gold.size(), " tags but pred has ", pred.size(),
         "; pass one tag per token for both (drop padding and sub-word positions from both alike)");
  }
  const auto gold_set = entity_set(gold);
  const auto pred_set = entity_set(pred);
  for (const auto& key : gold_set) check_type_name("EntityCounts::add", std::get<0>(key));
  for (const auto& key : pred_set) check_type_name("EntityCounts::add", std::get<0>(key));
  for (const auto& key : gold_set) {
    Counts& c = counts_[std::get<0>(key)];
    ++c.gold;
    if (pred_set.count(key) > 0) ++c.true_positives;
  }
  for (const auto& key : pred_set) ++counts_[std::get<0>(key)].predicted;
}

void EntityCounts::merge(const EntityCounts& other) {
  for (const auto& [type, c] : other.counts_) {
    Counts& mine = counts_[type];
    mine.true_positives += c.true_positives;
    mine.predicted += c.predicted;
    mine.gold += c.gold;
  }
}

std::vector<int64_t> EntityCounts::to_vector(const std::vector<std::string>& types) const {
  const std::set<std::string> listed(types.begin(), types.end());
  if (listed.size() != types.size()) {
    fail("EntityCounts::to_vector", "a type is listed twice among ", types.size(),
         " types; list each type once");
  }
  for (const auto& [type, c] : counts_) {
    if (listed.count(type) == 0) {
      fail("EntityCounts::to_vector", "entity type \"", type,
           "\" has counts but is not in the list of types; list every type of the tag set "
           "(the same list, in the same order, on every rank)");
    }
  }
  std::vector<int64_t> out;
  out.reserve(3 * types.size());
  for (const auto& type : types) {
    const auto it = counts_.find(type);
    const Counts c = it == counts_.end() ? Counts{} : it->second;
    out.insert(out.end(), {c.true_positives, c.predicted, c.gold});
  }
  return out;
}

EntityCounts EntityCounts::from_vector(const std::vector<int64_t>& v,
                                       const std::vector<std::string>& types) {
  if (v.size() != 3 * types.size()) {
    fail("EntityCounts::from_vector", "expected 3 counts per type (", 3 * types.size(), " for ",
         types.size(), " types), got ", v.size(), "; use the types list given to to_vector");
  }
  EntityCounts out;
  for (size_t i = 0; i < types.size(); ++i) {
    const int64_t tp = v[3 * i], predicted = v[3 * i + 1], gold = v[3 * i + 2];
    if (tp < 0 || tp > predicted || tp > gold) {
      fail("EntityCounts::from_vector", "counts of \"", types[i], "\" are inconsistent (true positives ",
           tp, ", predicted ", predicted, ", gold ", gold, ")");
    }
    if (predicted == 0 && gold == 0) continue;  // never seen: not a type seqeval would report
    check_type_name("EntityCounts::from_vector", types[i]);
    if (out.counts_.count(types[i]) > 0) {
      fail("EntityCounts::from_vector", "type \"", types[i], "\" is listed twice");
    }
    out.counts_[types[i]] = Counts{tp, predicted, gold};
  }
  return out;
}

std::map<std::string, PRF> EntityCounts::scores() const {
  std::map<std::string, PRF> out;
  Counts total;
  PRF macro;
  int64_t types = 0;
  for (const auto& [type, c] : counts_) {
    if (c.predicted == 0 && c.gold == 0) continue;
    const PRF s = make_prf(c.true_positives, c.predicted, c.gold);
    out[type] = s;
    total.true_positives += c.true_positives;
    total.predicted += c.predicted;
    total.gold += c.gold;
    macro.precision += s.precision;
    macro.recall += s.recall;
    macro.f1 += s.f1;
    ++types;
  }
  out["micro"] = make_prf(total.true_positives, total.predicted, total.gold);
  if (types == 0) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    macro.precision = macro.recall = macro.f1 = nan;
  } else {
    macro.precision /= static_cast<double>(types);
    macro.recall /= static_cast<double>(types);
    macro.f1 /= static_cast<double>(types);
  }
  macro.support = total.gold;
  out["macro"] = macro;
  return out;
}

}  // namespace medtrain::metrics
