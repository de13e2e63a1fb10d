// pr_curve, roc_curve and confusion_matrix against their references
// (curves_reference.py): the tensor TensorBoard's pr_curve.summary.pb stores
// (random scores, num_thresholds 2..1000, scores on the bucket edges where
// float32 rounding decides, scores outside [0, 1]), sklearn's roc_curve with
// and without drop_intermediate and roc_auc_score, and sklearn's
// confusion_matrix. Then the refused inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/common/python_reference.h"
#include "tests/trainer/metrics/test_util.h"
#include "tests/trainer/metrics/text_metrics_reference.h"
#include "trainer/metrics/confusion_matrix.h"
#include "trainer/metrics/pr_curve.h"
#include "trainer/metrics/roc_curve.h"

namespace medtrain::metrics {
namespace {

using testing::expect_throw_with;

const nlohmann::json& cases() {
  static const nlohmann::json c = nlohmann::json::parse(
      std::ifstream(medtrain::testing::python_reference("tests/trainer/metrics/curves_reference.py") / "cases.json"));
  return c;
}

std::vector<float> scores_of(const nlohmann::json& c) {
  std::vector<float> out;
  for (double s : c.at("scores")) out.push_back(static_cast<float>(s));  // exact: written from float32
  return out;
}

std::vector<bool> labels_of(const nlohmann::json& c) {
  std::vector<bool> out;
  for (bool b : c.at("labels")) out.push_back(b);
  return out;
}

// null in the reference: +inf (the first ROC threshold) or NaN (an undefined rate).
void expect_same(const std::vector<double>& got, const nlohmann::json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    if (want[i].is_null()) {
      EXPECT_FALSE(std::isfinite(got[i])) << what << "[" << i << "] = " << got[i];
    } else {
      EXPECT_NEAR(got[i], want[i].get<double>(), 1e-12) << what << "[" << i << "]";
    }
  }
}

TEST(CurvesParity, PrCurveIsThePluginsTensor) {
  MEDTRAIN_SKIP_WITHOUT_PYTHON();
  ASSERT_GE(cases().at("pr").size(), 15u);
  for (const auto& c : cases().at("pr")) {
    const int64_t n = c.at("num_thresholds");
    const auto curve = pr_curve(scores_of(c), labels_of(c), n);
    ASSERT_EQ(curve.num_thresholds, n);
    ASSERT_EQ(curve.data.size(), static_cast<size_t>(6 * n));
    const auto& want = c.at("tensor");
    ASSERT_EQ(want.size(), 6u);
    for (size_t row = 0; row < 6; ++row) {
      for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
        // Bit-identical: the plugin stores float32 of the same float64 arithmetic.
        ASSERT_EQ(curve.data[row * n + i], static_cast<float>(want[row][i].get<double>()))
            << "row " << row << " threshold " << i << " of " << n << ", " << c.at("scores").size() << " scores";
      }
    }
  }
}

TEST(CurvesParity, RocCurveIsSklearns) {
  MEDTRAIN_SKIP_WITHOUT_PYTHON();
  ASSERT_GE(cases().at("roc").size(), 10u);
  for (const auto& c : cases().at("roc")) {
    const bool drop = c.at("drop_intermediate");
    const std::string what = std::to_string(c.at("scores").size()) + " scores, drop_intermediate " +
                             (drop ? "true" : "false");
    const auto roc = roc_curve(scores_of(c), labels_of(c), drop);
    expect_same(roc.fpr, c.at("fpr"), what + ": fpr");
    expect_same(roc.tpr, c.at("tpr"), what + ": tpr");
    expect_same(roc.thresholds, c.at("thresholds"), what + ": thresholds");
    ASSERT_TRUE(std::isinf(roc.thresholds.at(0)) && roc.thresholds[0] > 0) << what;
    if (c.at("auc").is_null()) {
      EXPECT_TRUE(std::isnan(roc.auc)) << what;
    } else {
      EXPECT_NEAR(roc.auc, c.at("auc").get<double>(), 1e-12) << what;
    }
  }
}

TEST(CurvesParity, ConfusionMatrixIsSklearns) {
  MEDTRAIN_SKIP_WITHOUT_PYTHON();
  for (const auto& c : cases().at("confusion")) {
    const auto got = confusion_matrix(c.at("truth").get<std::vector<int64_t>>(),
                                      c.at("predicted").get<std::vector<int64_t>>(), c.at("num_classes"));
    EXPECT_EQ(got, c.at("counts").get<ConfusionCounts>()) << c.at("num_classes") << " classes";
  }
}

TEST(PrCurve, EmptyInputIsAllZeroCounts) {
  const auto curve = pr_curve({}, {}, 5);
  ASSERT_EQ(curve.data.size(), 30u);
  for (float v : curve.data) EXPECT_EQ(v, 0.0f);
}

TEST(PrCurve, NaNScoresAreLeftOut) {
  const auto curve = pr_curve({std::nanf(""), 0.75f}, {true, true}, 3);
  EXPECT_EQ(curve.data[0], 1.0f);  // TP at threshold 0: only the 0.75
  EXPECT_EQ(curve.data[3 * 3 + 0], 0.0f);  // FN at threshold 0: the NaN is in no count
}

TEST(PrCurve, RefusesBadInputs) {
  expect_throw_with<std::invalid_argument>([] { pr_curve({0.5f}, {true, false}); }, "1 scores for 2 labels");
  expect_throw_with<std::invalid_argument>([] { pr_curve({0.5f}, {true}, 1); }, "num_thresholds must be at least 2");
}

TEST(RocCurve, RefusesBadInputs) {
  expect_throw_with<std::invalid_argument>([] { roc_curve({0.5f, 0.2f}, {true}); }, "2 scores for 1 labels");
  expect_throw_with<std::invalid_argument>([] { roc_curve({0.5f, std::nanf("")}, {true, false}); },
                                           "score 1 is NaN");
}

TEST(RocCurve, NoSampleHasNoArea) {
  const auto roc = roc_curve({}, {});
  EXPECT_EQ(roc.fpr.size(), 1u);
  EXPECT_TRUE(std::isnan(roc.auc));
}

TEST(ConfusionMatrix, RefusesBadInputs) {
  expect_throw_with<std::invalid_argument>([] { confusion_matrix({0, 1}, {0}, 2); },
                                           "2 true labels for 1 predictions");
  expect_throw_with<std::invalid_argument>([] { confusion_matrix({0, 2}, {0, 1}, 2); },
                                           "sample 1: true label 2 is outside [0, 2)");
  expect_throw_with<std::invalid_argument>([] { confusion_matrix({0}, {-1}, 2); }, "sample 0: prediction -1");
  expect_throw_with<std::invalid_argument>([] { confusion_matrix({}, {}, 0); }, "num_classes must be at least 1");
  EXPECT_EQ(confusion_matrix({}, {}, 2), (ConfusionCounts{{0, 0}, {0, 0}}));
}

}  // namespace
}  // namespace medtrain::metrics
