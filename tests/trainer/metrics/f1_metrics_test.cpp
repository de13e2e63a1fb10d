// macro_f1_multiclass and multilabel_f1 against sklearn.metrics.f1_score
// (zero_division=0) run by text_metrics_reference.py, on fixed and random sets.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/trainer/metrics/test_util.h"
#include "tests/trainer/metrics/text_metrics_reference.h"
#include "trainer/metrics/classification_metrics.h"

namespace medtrain::metrics {
namespace {

using testing::expect_throw_with;
using testing::ref_value;
using testing::same_score;

struct Case {
  std::string name;
  torch::Tensor logits, targets;  // float32 [N, C|L]; int64 [N] or float32 [N, L]
};

// Rows of a float tensor as JSON; float32 values are exact in a double.
nlohmann::json rows(const torch::Tensor& t) {
  const auto d = t.to(torch::kFloat64).contiguous();
  nlohmann::json out = nlohmann::json::array();
  for (int64_t i = 0; i < d.size(0); ++i) {
    std::vector<double> row(d[i].data_ptr<double>(), d[i].data_ptr<double>() + d.size(1));
    out.push_back(row);
  }
  return out;
}

std::vector<Case> multiclass_cases() {
  std::vector<Case> out;
  auto logits = torch::tensor({{2.f, 0.f, 0.f}, {0.f, 2.f, 0.f}, {0.f, 0.f, 2.f}, {1.f, 1.f, 0.f}});
  out.push_back({"perfect_and_tie", logits, torch::tensor({0, 1, 2, 0}, torch::kLong)});
  out.push_back({"all_wrong", logits, torch::tensor({1, 2, 0, 2}, torch::kLong)});
  // Class 3 of 5 only predicted, class 4 in neither: sklearn averages over {0, 1, 2, 3}.
  auto only_pred = torch::full({3, 5}, -1.f);
  only_pred[0][0] = 1;
  only_pred[1][3] = 1;
  only_pred[2][2] = 1;
  out.push_back({"label_only_predicted", only_pred, torch::tensor({0, 1, 2}, torch::kLong)});
  torch::manual_seed(11);
  std::mt19937 rng(11);
  for (int i = 0; i < 60; ++i) {
    const int64_t n = 1 + static_cast<int64_t>(rng() % 40), c = 2 + static_cast<int64_t>(rng() % 5);
    // Skewed targets so that some classes are absent from targets or predictions.
    const auto targets = torch::randint(0, std::max<int64_t>(2, c - static_cast<int64_t>(rng() % 3)), {n}, torch::kLong);
    out.push_back({"random_" + std::to_string(i), torch::randn({n, c}) * 2, targets});
  }
  return out;
}

std::vector<Case> multilabel_cases() {
  std::vector<Case> out;
  // Label 2 has no positive target and no positive prediction; a logit of exactly
  // 0 is a negative prediction.
  out.push_back({"empty_label_and_zero_logit",
                 torch::tensor({{1.f, 0.f, -1.f}, {-2.f, 3.f, -1.f}, {0.5f, -0.5f, -3.f}}),
                 torch::tensor({{1.f, 1.f, 0.f}, {0.f, 1.f, 0.f}, {0.f, 0.f, 0.f}})});
  out.push_back({"nothing_predicted", torch::full({2, 2}, -1.f), torch::tensor({{1.f, 0.f}, {0.f, 1.f}})});
  out.push_back({"nothing_at_all", torch::full({2, 3}, -1.f), torch::zeros({2, 3})});
  torch::manual_seed(12);
  std::mt19937 rng(12);
  for (int i = 0; i < 60; ++i) {
    const int64_t n = 1 + static_cast<int64_t>(rng() % 30), l = 2 + static_cast<int64_t>(rng() % 5);
    const double rate = 0.1 + 0.1 * static_cast<double>(rng() % 5);
    out.push_back({"random_" + std::to_string(i), torch::randn({n, l}) - 0.5,
                   torch::bernoulli(torch::full({n, l}, rate))});
  }
  return out;
}

TEST(MacroF1Multiclass, MatchesSklearn) {
  MEDTRAIN_SKIP_WITHOUT_PYTHON();
  const auto cases = multiclass_cases();
  nlohmann::json in;
  for (const auto& c : cases) {
    std::vector<int64_t> y(c.targets.data_ptr<int64_t>(), c.targets.data_ptr<int64_t>() + c.targets.numel());
    in["multiclass"].push_back({{"logits", rows(c.logits)}, {"targets", y}});
  }
  const auto ref = testing::run_text_reference(in).at("multiclass");
  ASSERT_EQ(ref.size(), cases.size());
  for (size_t k = 0; k < cases.size(); ++k) {
    EXPECT_TRUE(same_score(macro_f1_multiclass(cases[k].logits, cases[k].targets),
                           ref_value(ref[k].at("macro_f1"))))
        << cases[k].name;
  }
}

TEST(MultilabelF1Score, MatchesSklearn) {
  MEDTRAIN_SKIP_WITHOUT_PYTHON();
  const auto cases = multilabel_cases();
  nlohmann::json in;
  for (const auto& c : cases) in["multilabel"].push_back({{"logits", rows(c.logits)}, {"targets", rows(c.targets)}});
  const auto ref = testing::run_text_reference(in).at("multilabel");
  ASSERT_EQ(ref.size(), cases.size());
  for (size_t k = 0; k < cases.size(); ++k) {
    SCOPED_TRACE(cases[k].name);
    const auto got = multilabel_f1(cases[k].logits, cases[k].targets);
    EXPECT_TRUE(same_score(got.micro, ref_value(ref[k].at("micro"))));
    EXPECT_TRUE(same_score(got.macro, ref_value(ref[k].at("macro"))));
    const auto& per = ref[k].at("per_label");
    ASSERT_EQ(got.per_label.size(), per.size());
    for (size_t l = 0; l < per.size(); ++l) EXPECT_TRUE(same_score(got.per_label[l], ref_value(per[l]))) << "label " << l;
  }
}

// sklearn refuses an empty set; ours says NaN, like accuracy().
TEST(TextF1, EmptySetIsNaN) {
  EXPECT_TRUE(std::isnan(macro_f1_multiclass(torch::zeros({0, 3}), torch::zeros({0}, torch::kLong))));
  const auto m = multilabel_f1(torch::zeros({0, 2}), torch::zeros({0, 2}));
  EXPECT_TRUE(std::isnan(m.micro));
  EXPECT_TRUE(std::isnan(m.macro));
  ASSERT_EQ(m.per_label.size(), 2u);
  EXPECT_TRUE(std::isnan(m.per_label[0]));
}

TEST(TextF1, RejectsBadShapes) {
  expect_throw_with<std::invalid_argument>(
      [] { macro_f1_multiclass(torch::zeros({2, 3}), torch::zeros({3}, torch::kLong)); }, "rows");
  expect_throw_with<std::invalid_argument>(
      [] { macro_f1_multiclass(torch::zeros({2, 3}), torch::tensor({0, 3}, torch::kLong)); }, "targets must lie");
  expect_throw_with<std::invalid_argument>([] { multilabel_f1(torch::zeros({2, 3}), torch::zeros({2, 2})); },
                                           "same shape");
  expect_throw_with<std::invalid_argument>(
      [] { multilabel_f1(torch::zeros({2, 3}, torch::kLong), torch::zeros({2, 3})); }, "floating");
}

}  // namespace
}  // namespace medtrain::metrics
