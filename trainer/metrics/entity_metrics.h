#pragma once
// Entity-level (chunk) precision / recall / F1 for token tagging, as seqeval 1.2.2
// computes them in its default mode (not mode="strict"). Plain C++ on the host;
// no tensors. An EntityCounts is not thread-safe; give each thread its own and
// merge(), or flatten with to_vector() to sum over ranks (e.g. an MPI allreduce of
// int64) and rebuild with from_vector().
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace medtrain::metrics {

struct Entity { std::string type; int64_t start = 0, end = 0; };  // token positions [start, end)

// Chunks of a BIO tag sequence ("O", "B-NAME", "I-NAME", ...) with seqeval's default
// (non-strict, conlleval-like) semantics of seqeval.metrics.sequence_labeling.get_entities:
// an I-X after O or after another type starts a new chunk, etc.
// Note [seqeval tag parsing]: the tag letter is the first character and the type is what
// follows the first '-' ("B-A-B" is type "A-B"; a bare "B" or "I" is type "_"). E- and S-
// (IOBES) tags follow the same rules as in seqeval. Chunks come out in order of their end.
// Throws std::invalid_argument for an empty tag string (seqeval fails on one too).
std::vector<Entity> bio_entities(const std::vector<std::string>& tags);

struct PRF { double precision = 0, recall = 0, f1 = 0; int64_t support = 0; };

class EntityCounts {
 public:
  // One sequence: gold and predicted tags of equal length (std::invalid_argument otherwise,
  // and for a type named "micro" or "macro", which would collide with the averages in scores()).
  // An entity is a true positive when a predicted chunk has the same type, start and end.
  void add(const std::vector<std::string>& gold, const std::vector<std::string>& pred);
  void merge(const EntityCounts& other);
  // Flattened counts (per type: true positives, predicted, gold), for summing over ranks, and back.
  // to_vector: 3 * types.size() values in the order of `types`; a type never seen is 0, 0, 0.
  // Throws std::invalid_argument when a type that has counts is missing from `types` (its
  // counts would be lost). from_vector: v.size() must be 3 * types.size(); types are unique.
  std::vector<int64_t> to_vector(const std::vector<std::string>& types) const;
  static EntityCounts from_vector(const std::vector<int64_t>& v, const std::vector<std::string>& types);
  // Per type, plus "micro" and "macro", as seqeval's classification_report computes them
  // (zero_division = 0). The types are those with a gold or a predicted entity; "macro" is the
  // unweighted mean over exactly those types, so a type that is only predicted (support 0)
  // counts with P = R = F1 = 0, as in seqeval. With no entity at all, micro is all 0 and macro
  // is NaN (seqeval's numpy mean of nothing). support: gold entities (the sum for the averages).
  std::map<std::string, PRF> scores() const;

 private:
  struct Counts { int64_t true_positives = 0, predicted = 0, gold = 0; };
  std::map<std::string, Counts> counts_;
};

}  // namespace medtrain::metrics
