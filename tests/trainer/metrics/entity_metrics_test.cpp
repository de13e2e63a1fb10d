// bio_entities and EntityCounts against seqeval 1.2.2 (text_metrics_reference.py):
// get_entities sentence by sentence, and classification_report / precision_score /
// recall_score / f1_score (default mode) over whole sets, on fixed edge cases and
// on randomized tag sequences.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/trainer/metrics/test_util.h"
#include "tests/trainer/metrics/text_metrics_reference.h"
#include "trainer/metrics/entity_metrics.h"

namespace medtrain::metrics {
namespace {

using testing::expect_throw_with;
using testing::ref_value;
using testing::same_score;
using Sentences = std::vector<std::vector<std::string>>;

struct SetCase {
  std::string name;
  Sentences gold, pred;
};

std::vector<SetCase> fixed_cases() {
  return {
      {"i_after_o", {{"O", "I-PER", "I-PER", "O"}}, {{"O", "B-PER", "I-PER", "O"}}},
      {"type_switch_inside", {{"B-PER", "I-PER", "I-LOC", "I-LOC", "O"}}, {{"B-PER", "I-PER", "B-LOC", "I-LOC", "O"}}},
      {"b_then_i_of_other_type", {{"B-PER", "I-LOC", "O", "B-LOC"}}, {{"B-PER", "B-LOC", "O", "B-LOC"}}},
      {"ends_inside_chunk", {{"O", "B-LOC", "I-LOC"}, {"B-PER"}}, {{"O", "B-LOC", "I-LOC"}, {"I-PER"}}},
      {"empty_predictions", {{"B-PER", "I-PER", "O", "B-LOC"}, {"O", "B-DRUG"}}, {{"O", "O", "O", "O"}, {"O", "O"}}},
      {"only_predicted_type", {{"B-PER", "O", "O"}}, {{"B-PER", "O", "B-DRUG"}}},
      {"no_entities_at_all", {{"O", "O"}, {}}, {{"O", "O"}, {}}},
      {"empty_sentences_and_gold", {{}, {"O", "O", "O"}}, {{}, {"B-LOC", "I-LOC", "I-PER"}}},
      {"adjacent_b", {{"B-PER", "B-PER", "I-PER", "B-PER"}}, {{"B-PER", "I-PER", "I-PER", "B-PER"}}},
      {"dash_in_type_and_bare_tags", {{"B-A-B", "I-A-B", "B", "I", "O", "I"}}, {{"B-A-B", "I-A", "B", "I", "O", "B"}}},
      {"iobes", {{"S-PER", "B-LOC", "I-LOC", "E-LOC", "E-LOC", "I-LOC", "S-LOC"}},
       {{"S-PER", "B-LOC", "E-LOC", "I-LOC", "E-LOC", "O", "S-LOC"}}},
  };
}

// Tags drawn so that every transition of the BIO grammar (and its violations)
// is common: few types, short sentences, I- as often as B-.
std::string random_tag(std::mt19937& rng, bool iobes) {
  static const std::vector<std::string> types = {"PER", "LOC", "DRUG"};
  std::uniform_int_distribution<int> type(0, 2), pick(0, 99);
  const int r = pick(rng);
  const std::string t = types[static_cast<size_t>(type(rng))];
  if (r < 40) return "O";
  if (r < 70) return "B-" + t;
  if (r < 95 || !iobes) return "I-" + t;
  return (r < 98 ? "E-" : "S-") + t;
}

std::vector<std::string> random_tags(std::mt19937& rng, size_t n, bool iobes) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(random_tag(rng, iobes));
  return out;
}

std::vector<SetCase> random_cases(uint32_t seed, int count) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> sentences(1, 5), length(0, 12), keep(0, 3);
  std::vector<SetCase> out;
  for (int i = 0; i < count; ++i) {
    const bool iobes = i % 5 == 4;
    SetCase c{"random_" + std::to_string(i), {}, {}};
    for (int s = sentences(rng); s > 0; --s) c.gold.push_back(random_tags(rng, length(rng), iobes));
    for (const auto& g : c.gold) {
      if (i % 7 == 3) {  // empty predictions
        c.pred.emplace_back(g.size(), "O");
      } else if (i % 2 == 0) {  // near the gold: each tag kept with probability 3/4
        auto p = g;
        for (auto& tag : p) {
          if (keep(rng) == 0) tag = random_tag(rng, iobes);
        }
        c.pred.push_back(std::move(p));
      } else {  // independent, same length
        c.pred.push_back(random_tags(rng, g.size(), iobes));
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

void expect_prf(const PRF& got, const nlohmann::json& want, const std::string& what) {
  EXPECT_TRUE(same_score(got.precision, ref_value(want.at("precision")))) << what << " precision";
  EXPECT_TRUE(same_score(got.recall, ref_value(want.at("recall")))) << what << " recall";
  EXPECT_TRUE(same_score(got.f1, ref_value(want.at("f1-score")))) << what << " f1";
  EXPECT_EQ(got.support, want.at("support").get<int64_t>()) << what << " support";
}

std::string show(const std::vector<std::string>& tags) {
  std::string s;
  for (const auto& t : tags) s += (s.empty() ? "" : " ") + t;
  return "[" + s + "]";
}

void expect_entities(const std::vector<std::string>& tags, const nlohmann::json& want,
                     const std::string& what) {
  const auto got = bio_entities(tags);
  ASSERT_EQ(got.size(), want.size()) << what << " " << show(tags) << ": reference " << want.dump();
  for (size_t i = 0; i < got.size(); ++i) {
    // seqeval's end is inclusive; ours is one past.
    EXPECT_EQ(got[i].type, want[i][0].get<std::string>()) << what << " " << show(tags);
    EXPECT_EQ(got[i].start, want[i][1].get<int64_t>()) << what << " " << show(tags);
    EXPECT_EQ(got[i].end, want[i][2].get<int64_t>() + 1) << what << " " << show(tags);
  }
}

// Entities, scores of one set added at once, of two halves merged, and of a
// round trip through to_vector / from_vector: all must equal seqeval's.
void check_against_seqeval(const std::vector<SetCase>& cases) {
  nlohmann::json in;
  in["sequences"] = nlohmann::json::array();
  for (const auto& c : cases) in["sequences"].push_back({{"gold", c.gold}, {"pred", c.pred}});
  const auto ref = testing::run_text_reference(in).at("sequences");
  ASSERT_EQ(ref.size(), cases.size());
  for (size_t k = 0; k < cases.size(); ++k) {
    const auto& c = cases[k];
    const auto& r = ref[k];
    SCOPED_TRACE(c.name);
    for (size_t s = 0; s < c.gold.size(); ++s) {
      expect_entities(c.gold[s], r.at("gold_entities")[s], "gold sentence " + std::to_string(s));
      expect_entities(c.pred[s], r.at("pred_entities")[s], "pred sentence " + std::to_string(s));
    }

    EntityCounts whole, first, second;
    for (size_t s = 0; s < c.gold.size(); ++s) {
      whole.add(c.gold[s], c.pred[s]);
      (s % 2 == 0 ? first : second).add(c.gold[s], c.pred[s]);
    }
    first.merge(second);
    const std::vector<std::string> types = {"DRUG", "LOC", "PER", "_", "A-B", "A", "UNUSED"};
    const auto flat = whole.to_vector(types);
    ASSERT_EQ(flat.size(), 3 * types.size());
    const auto rebuilt = EntityCounts::from_vector(flat, types);

    const auto& report = r.at("report");
    for (const EntityCounts* counts : std::initializer_list<const EntityCounts*>{&whole, &first, &rebuilt}) {
      const auto got = counts->scores();
      std::set<std::string> want_keys, got_keys;
      for (const auto& [key, value] : report.items()) {
        if (key == "weighted avg") continue;
        want_keys.insert(key == "micro avg" ? "micro" : key == "macro avg" ? "macro" : key);
      }
      for (const auto& [key, value] : got) got_keys.insert(key);
      ASSERT_EQ(got_keys, want_keys) << report.dump();
      for (const auto& [key, value] : report.items()) {
        if (key == "weighted avg") continue;
        const std::string ours = key == "micro avg" ? "micro" : key == "macro avg" ? "macro" : key;
        expect_prf(got.at(ours), value, key);
      }
      EXPECT_TRUE(same_score(got.at("micro").precision, ref_value(r.at("precision"))));
      EXPECT_TRUE(same_score(got.at("micro").recall, ref_value(r.at("recall"))));
      EXPECT_TRUE(same_score(got.at("micro").f1, ref_value(r.at("f1"))));
      EXPECT_TRUE(same_score(got.at("macro").f1, ref_value(r.at("macro_f1"))));
    }
  }
}

TEST(EntityMetrics, FixedCasesMatchSeqeval) {
  MEDTRAIN_SKIP_WITHOUT_PYTHON();
  check_against_seqeval(fixed_cases());
}

TEST(EntityMetrics, RandomizedSequencesMatchSeqeval) {
  MEDTRAIN_SKIP_WITHOUT_PYTHON();
  constexpr uint32_t kSeed = 20240611;
  SCOPED_TRACE("seed " + std::to_string(kSeed));
  const auto cases = random_cases(kSeed, 400);
  // The draw must exercise what it is for, or the test proves little.
  int64_t i_after_o = 0, switches = 0, ends_open = 0, entities = 0;
  for (const auto& c : cases) {
    for (const auto* set : {&c.gold, &c.pred}) {
      for (const auto& s : *set) {
        entities += static_cast<int64_t>(bio_entities(s).size());
        if (!s.empty() && s.back() != "O") ++ends_open;
        for (size_t i = 1; i < s.size(); ++i) {
          if (s[i - 1] == "O" && s[i][0] == 'I') ++i_after_o;
          if (s[i - 1] != "O" && s[i] != "O" && s[i - 1].substr(2) != s[i].substr(2) && s[i][0] == 'I') ++switches;
        }
      }
    }
  }
  EXPECT_GT(i_after_o, 100);
  EXPECT_GT(switches, 100);
  EXPECT_GT(ends_open, 100);
  EXPECT_GT(entities, 2000);
  check_against_seqeval(cases);
}

// Readable cases whose answer follows from the rules in the header alone.
TEST(EntityMetrics, BioEntitiesByTheRules) {
  const auto e = bio_entities({"O", "I-PER", "I-PER", "B-PER", "I-LOC", "I-LOC", "O", "B-DRUG"});
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].type, "PER");
  EXPECT_EQ(e[0].start, 1);
  EXPECT_EQ(e[0].end, 3);
  EXPECT_EQ(e[1].start, 3);
  EXPECT_EQ(e[1].end, 4);
  EXPECT_EQ(e[2].type, "LOC");
  EXPECT_EQ(e[2].start, 4);
  EXPECT_EQ(e[2].end, 6);
  EXPECT_EQ(e[3].type, "DRUG");
  EXPECT_EQ(e[3].start, 7);
  EXPECT_EQ(e[3].end, 8);
  EXPECT_TRUE(bio_entities({}).empty());
  EXPECT_TRUE(bio_entities({"O", "O"}).empty());
}

TEST(EntityMetrics, RejectsBadInput) {
  EntityCounts counts;
  expect_throw_with<std::invalid_argument>([&] { counts.add({"O", "B-PER"}, {"O"}); }, "gold has 2 tags but pred has 1");
  expect_throw_with<std::invalid_argument>([&] { counts.add({"B-micro"}, {"O"}); }, "collides");
  expect_throw_with<std::invalid_argument>([&] { bio_entities({"O", ""}); }, "tag 1 is an empty string");
  counts.add({"B-PER", "O"}, {"B-PER", "B-LOC"});
  expect_throw_with<std::invalid_argument>([&] { counts.to_vector({"PER"}); }, "\"LOC\" has counts");
  expect_throw_with<std::invalid_argument>([&] { counts.to_vector({"PER", "LOC", "PER"}); }, "listed twice");
  expect_throw_with<std::invalid_argument>([&] { EntityCounts::from_vector({1, 1}, {"PER"}); },
                                           "expected 3 counts per type");
  expect_throw_with<std::invalid_argument>([&] { EntityCounts::from_vector({2, 1, 1}, {"PER"}); },
                                           "inconsistent");
  // Summing two ranks' vectors is the same as merging.
  EntityCounts other;
  other.add({"B-LOC", "I-LOC"}, {"B-LOC", "I-LOC"});
  const std::vector<std::string> types = {"LOC", "PER"};
  auto a = counts.to_vector(types);
  const auto b = other.to_vector(types);
  for (size_t i = 0; i < a.size(); ++i) a[i] += b[i];
  EXPECT_EQ(a, (std::vector<int64_t>{1, 2, 1, 1, 1, 1}));
  counts.merge(other);
  EXPECT_EQ(counts.to_vector(types), a);
}

}  // namespace
}  // namespace medtrain::metrics
