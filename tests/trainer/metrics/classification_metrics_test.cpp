// accuracy / AUROC against brute-force references written here: explicit
// softmax with std::exp and the O(N^2) pairwise definition of AUROC.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "tests/trainer/metrics/test_util.h"
#include "trainer/metrics/classification_metrics.h"

namespace medtrain::metrics {
namespace {

using Rows = std::vector<std::vector<double>>;
using testing::expect_throw_with;

torch::Tensor to_logits(const Rows& rows) {
  const auto n = static_cast<int64_t>(rows.size());
  const auto c = static_cast<int64_t>(rows.at(0).size());
  auto t = torch::empty({n, c}, torch::kFloat64);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < c; ++j) t[i][j] = rows[i][j];
  }
  return t.to(torch::kFloat32);
}

torch::Tensor to_targets(const std::vector<int64_t>& y) {
  return torch::tensor(y, torch::kLong);
}

std::vector<double> softmax_ref(const std::vector<double>& row) {
  double m = row[0];
  for (double v : row) m = std::max(m, v);
  double z = 0;
  for (double v : row) z += std::exp(v - m);
  std::vector<double> p;
  for (double v : row) p.push_back(std::exp(v - m) / z);
  return p;
}

// Probability that a random positive outranks a random negative; ties count 1/2.
double pairwise_auc(const std::vector<double>& s, const std::vector<bool>& pos) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    for (size_t j = 0; j < s.size(); ++j) {
      if (!pos[i] || pos[j]) continue;
      wins += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
      pairs += 1;
    }
  }
  return pairs == 0 ? std::nan("") : wins / pairs;
}

double auroc_ref(const Rows& logits, const std::vector<int64_t>& y) {
  // Rows are rounded to float first, as to_logits stores them.
  Rows probs;
  for (const auto& row : logits) {
    std::vector<double> r;
    for (double v : row) r.push_back(static_cast<float>(v));
    probs.push_back(softmax_ref(r));
  }
  const int64_t c = static_cast<int64_t>(logits[0].size());
  auto one_vs_rest = [&](int64_t k) {
    std::vector<double> s;
    std::vector<bool> pos;
    for (size_t i = 0; i < y.size(); ++i) {
      s.push_back(probs[i][k]);
      pos.push_back(y[i] == k);
    }
    return pairwise_auc(s, pos);
  };
  std::set<int64_t> present(y.begin(), y.end());
  if (present.size() < 2) return std::nan("");
  if (c == 2) return one_vs_rest(1);
  double sum = 0;
  for (int64_t k : present) sum += one_vs_rest(k);
  return sum / static_cast<double>(present.size());
}

// Rows drawn from a small pool of distinct random rows, so that many scores
// tie exactly (identical rows give bit-identical softmax), plus unique rows.
void random_case(uint32_t seed, int64_t n, int64_t classes, Rows& logits,
                 std::vector<int64_t>& y) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 2.0);
  std::uniform_int_distribution<int64_t> label(0, classes - 1);
  Rows pool(8, std::vector<double>(classes));
  for (auto& row : pool) {
    for (auto& v : row) v = normal(rng);
  }
  std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
  logits.clear();
  y.clear();
  for (int64_t i = 0; i < n; ++i) {
    if (i % 3 == 0) {
      std::vector<double> row(classes);
      for (auto& v : row) v = normal(rng);
      logits.push_back(row);
    } else {
      logits.push_back(pool[pick(rng)]);
    }
    y.push_back(label(rng));
  }
}

TEST(Auroc, MatchesPairwiseReferenceWithTiesBinary) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    Rows logits;
    std::vector<int64_t> y;
    random_case(seed, 300, 2, logits, y);
    EXPECT_NEAR(auroc(to_logits(logits), to_targets(y)), auroc_ref(logits, y), 1e-12)
        << "seed " << seed;
  }
}

TEST(Auroc, MatchesPairwiseReferenceWithTiesThreeClass) {
  for (uint32_t seed = 11; seed <= 15; ++seed) {
    Rows logits;
    std::vector<int64_t> y;
    random_case(seed, 300, 3, logits, y);
    EXPECT_NEAR(auroc(to_logits(logits), to_targets(y)), auroc_ref(logits, y), 1e-12)
        << "seed " << seed;
  }
}

TEST(Auroc, MacroAverageSkipsAbsentClasses) {
  Rows logits;
  std::vector<int64_t> y;
  random_case(21, 200, 4, logits, y);
  for (auto& label : y) {
    if (label == 2) label = 3;  // class 2 never occurs
  }
  const double got = auroc(to_logits(logits), to_targets(y));
  EXPECT_NEAR(got, auroc_ref(logits, y), 1e-12);
  EXPECT_FALSE(std::isnan(got));
}

TEST(Auroc, ScikitLearnDocExample) {
  // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75;
  // logits [0, log(p / (1 - p))] give softmax[:, 1] == p.
  Rows logits;
  for (double p : {0.1, 0.4, 0.35, 0.8}) logits.push_back({0.0, std::log(p / (1 - p))});
  EXPECT_NEAR(auroc(to_logits(logits), to_targets({0, 0, 1, 1})), 0.75, 1e-12);
}

TEST(Auroc, PerfectInvertedAndAllTied) {
  const Rows logits = {{0, -2}, {0, -1}, {0, 1}, {0, 2}};
  EXPECT_DOUBLE_EQ(auroc(to_logits(logits), to_targets({0, 0, 1, 1})), 1.0);
  EXPECT_DOUBLE_EQ(auroc(to_logits(logits), to_targets({1, 1, 0, 0})), 0.0);
  const Rows tied = {{0, 1}, {0, 1}, {0, 1}, {0, 1}};
  EXPECT_DOUBLE_EQ(auroc(to_logits(tied), to_targets({0, 1, 0, 1})), 0.5);
}

TEST(Auroc, PerfectThreeClass) {
  const Rows logits = {{5, 0, 0}, {4, 0, 0}, {0, 5, 0}, {0, 4, 0}, {0, 0, 5}, {0, 0, 4}};
  EXPECT_DOUBLE_EQ(auroc(to_logits(logits), to_targets({0, 0, 1, 1, 2, 2})), 1.0);
}

TEST(Auroc, NaNWhenOnlyOneClassOccurs) {
  EXPECT_TRUE(std::isnan(auroc(to_logits({{0, 1}, {1, 0}}), to_targets({1, 1}))));
  EXPECT_TRUE(std::isnan(auroc(to_logits({{0, 1, 2}, {1, 0, 2}}), to_targets({2, 2}))));
  EXPECT_TRUE(std::isnan(auroc(torch::zeros({0, 2}), torch::zeros({0}, torch::kLong))));
}

TEST(Auroc, NaNLogitsGiveNaNNotACrash) {
  const Rows logits = {{0, 1}, {0, std::nan("")}, {0, 2}, {0, -1}};
  EXPECT_TRUE(std::isnan(auroc(to_logits(logits), to_targets({0, 1, 1, 0}))));
}

TEST(Accuracy, MatchesArgmaxLoop) {
  Rows logits;
  std::vector<int64_t> y;
  for (uint32_t seed = 31; seed <= 33; ++seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal;
    std::uniform_int_distribution<int64_t> label(0, 4);
    logits.assign(257, std::vector<double>(5));
    y.clear();
    for (auto& row : logits) {
      for (auto& v : row) v = normal(rng);
      y.push_back(label(rng));
    }
    int64_t correct = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      int64_t best = 0;
      for (int64_t k = 1; k < 5; ++k) best = logits[i][k] > logits[i][best] ? k : best;
      correct += best == y[i];
    }
    EXPECT_DOUBLE_EQ(accuracy(to_logits(logits), to_targets(y)),
                     static_cast<double>(correct) / static_cast<double>(y.size()));
  }
  EXPECT_TRUE(std::isnan(accuracy(torch::zeros({0, 3}), torch::zeros({0}, torch::kLong))));
}

TEST(ClassificationMetrics, BadShapesAndDtypesAreExplained) {
  const auto logits = torch::zeros({4, 3});
  const auto targets = torch::zeros({4}, torch::kLong);
  for (auto* metric : {&accuracy, &auroc}) {
    expect_throw_with<std::invalid_argument>([&] { metric(torch::zeros({4}), targets); },
                                             "logits must be a floating [N, C]");
    expect_throw_with<std::invalid_argument>(
        [&] { metric(torch::zeros({4, 3}, torch::kLong), targets); }, "Long");
    expect_throw_with<std::invalid_argument>([&] { metric(logits, torch::zeros({4})); },
                                             "targets must be an int64 [N]");
    expect_throw_with<std::invalid_argument>(
        [&] { metric(logits, torch::zeros({4, 1}, torch::kLong)); }, "[4, 1]");
    expect_throw_with<std::invalid_argument>(
        [&] { metric(logits, torch::zeros({5}, torch::kLong)); },
        "logits have 4 rows but targets have 5 entries");
    expect_throw_with<std::invalid_argument>(
        [&] { metric(logits, torch::tensor({0, 1, 3, 2}, torch::kLong)); },
        "targets must lie in [0, 3) for 3 classes, found 3");
    expect_throw_with<std::invalid_argument>(
        [&] { metric(logits, torch::tensor({0, -1, 1, 2}, torch::kLong)); }, "found -1");
    expect_throw_with<std::invalid_argument>(
        [&] { metric(torch::zeros({4, 1}), targets); }, "at least 2 classes");
  }
}

}  // namespace
}  // namespace medtrain::metrics
