// eval_curves_json on hand-made logits: the confusion matrix counted by hand
// (multiclass argmax; multilabel logit > 0 per label), one ROC and PR curve
// per class, the two-class ROC area equal to val/auroc's (metrics::auroc, a
// Mann-Whitney count), label names and their "class<i>" fallback, non-finite
// logits, and the tasks without curves. And log_eval_curves through a
// RunLogger, read back from its event file: which tags, tensors and images.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/common/temp_dir.h"
#include "trainer/engine/eval_curves.h"
#include "trainer/metrics/event_file_reader.h"
#include "trainer/metrics/classification_metrics.h"

namespace medtrain::engine {
namespace {

using Counts = std::vector<std::vector<int64_t>>;

TEST(EvalCurvesJson, MulticlassConfusionIsOnTheArgmax) {
  // 5 samples, 3 classes; argmax: 0, 1, 2, 1, 0; truth: 0, 1, 1, 2, 0.
  const auto logits = torch::tensor({{3.0f, 1.0f, 0.0f},
                                     {0.0f, 2.0f, 1.0f},
                                     {0.0f, 1.0f, 4.0f},
                                     {1.0f, 2.0f, 0.5f},
                                     {2.0f, 0.0f, 1.0f}});
  const auto targets = torch::tensor({0, 1, 1, 2, 0}, torch::kLong);
  const auto j = eval_curves_json(Task::kMulticlass, {logits, targets}, {"normal", "benign"});
  EXPECT_EQ(j.at("confusion_matrix").at("labels"), (std::vector<std::string>{"normal", "benign", "class2"}));
  EXPECT_EQ(j.at("confusion_matrix").at("counts").get<Counts>(), (Counts{{2, 0, 0}, {0, 1, 1}, {0, 1, 0}}));
  for (const std::string name : {"normal", "benign", "class2"}) {
    const auto& roc = j.at("roc").at(name);
    ASSERT_EQ(roc.at("fpr").size(), roc.at("tpr").size()) << name;
    EXPECT_TRUE(roc.at("thresholds")[0].is_null()) << "+inf is null in JSON";
    EXPECT_EQ(roc.at("fpr").front(), 0.0);
    EXPECT_EQ(roc.at("tpr").back(), 1.0);
    const auto& pr = j.at("pr").at(name);
    EXPECT_EQ(pr.at("precision").size(), 201u);
    EXPECT_EQ(pr.at("recall").size(), 201u);
    EXPECT_EQ(pr.at("thresholds")[100], 0.5);
    EXPECT_EQ(pr.at("recall")[0], 1.0);  // every sample scores >= 0
  }
  // Class "normal" is perfectly separated by its softmax probability.
  EXPECT_DOUBLE_EQ(j.at("roc").at("normal").at("auc").get<double>(), 1.0);
}

TEST(EvalCurvesJson, TwoClassAreaIsValAuroc) {
  torch::manual_seed(3);
  const auto logits = torch::randn({40, 2});
  const auto targets = torch::randint(0, 2, {40}, torch::kLong);
  const auto j = eval_curves_json(Task::kMulticlass, {logits, targets}, {"no_lesion", "lesion"});
  EXPECT_NEAR(j.at("roc").at("lesion").at("auc").get<double>(), metrics::auroc(logits, targets), 1e-9);
  // One-vs-rest of class 0 is the same curve mirrored: the same area.
  EXPECT_NEAR(j.at("roc").at("no_lesion").at("auc").get<double>(), metrics::auroc(logits, targets), 1e-9);
  int64_t total = 0;
  for (const auto& row : j.at("confusion_matrix").at("counts").get<Counts>()) {
    for (int64_t c : row) total += c;
  }
  EXPECT_EQ(total, 40);
}

TEST(EvalCurvesJson, MultilabelHasATwoByTwoPerLabel) {
  // Label 0: truth 1 0 1 0, logit > 0: 1 1 0 0. Label 1: truth 0 0 0 0 (no positive), predicted 0 0 1 0.
  const auto logits = torch::tensor({{2.0f, -1.0f}, {0.5f, -2.0f}, {-1.0f, 3.0f}, {-0.5f, -1.0f}});
  const auto targets = torch::tensor({{1.0f, 0.0f}, {0.0f, 0.0f}, {1.0f, 0.0f}, {0.0f, 0.0f}});
  const auto j = eval_curves_json(Task::kMultilabel, {logits, targets}, {"effusion", "mass"});
  const auto& cm = j.at("confusion_matrix");
  EXPECT_EQ(cm.at("effusion").at("labels"), (std::vector<std::string>{"absent", "present"}));
  EXPECT_EQ(cm.at("effusion").at("counts").get<Counts>(), (Counts{{1, 1}, {1, 1}}));  // [[TN, FP], [FN, TP]]
  EXPECT_EQ(cm.at("mass").at("counts").get<Counts>(), (Counts{{3, 1}, {0, 0}}));
  // No positive "mass": its true positive rate and area are undefined (null), as sklearn's.
  EXPECT_TRUE(j.at("roc").at("mass").at("auc").is_null());
  EXPECT_TRUE(j.at("roc").at("mass").at("tpr")[1].is_null());
  EXPECT_DOUBLE_EQ(j.at("roc").at("effusion").at("auc").get<double>(), 0.5);  // 2 of 4 pairs ranked right
}

TEST(EvalCurvesJson, NonFiniteLogitsKeepOnlyTheConfusionMatrix) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto logits = torch::tensor({{1.0f, nan}, {0.0f, 1.0f}});
  const auto j = eval_curves_json(Task::kMulticlass, {logits, torch::tensor({0, 1}, torch::kLong)}, {});
  EXPECT_FALSE(j.contains("roc"));
  EXPECT_FALSE(j.contains("pr"));
  EXPECT_NE(j.at("curves_skipped").get<std::string>().find("not all finite"), std::string::npos);
  EXPECT_EQ(j.at("confusion_matrix").at("labels"), (std::vector<std::string>{"class0", "class1"}));
}

TEST(EvalCurvesJson, OtherTasksAndEmptyOutputsHaveNone) {
  EXPECT_TRUE(eval_curves_json(Task::kSegmentation, {torch::zeros({2, 2}), torch::zeros({2})}, {}).empty());
  EXPECT_TRUE(eval_curves_json(Task::kMulticlass, {}, {}).empty());
  EXPECT_TRUE(eval_curves_json(Task::kMulticlass, {torch::zeros({0, 2}), torch::zeros({0}, torch::kLong)}, {}).empty());
}

// Logs the curves of `out` into a fresh run folder and reads its events back.
std::vector<metrics::EventValue> logged(Task task, const EvalOutputs& out, const std::vector<std::string>& names,
                                        bool tensorboard = true) {
  testing::TempDir dir("medtrain_eval_curves");
  config::LogConfig cfg;
  cfg.tensorboard = tensorboard;
  cfg.progress = "none";
  {
    RunLogger log(dir.path(), cfg, true);
    log_eval_curves(log, 7, task, out, names);
    log.finish();
  }
  return metrics::read_event_dir(dir.path() / "tensorboard");
}

const metrics::EventValue* find(const std::vector<metrics::EventValue>& values, const std::string& tag) {
  const auto it = std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.tag == tag; });
  return it == values.end() ? nullptr : &*it;
}

TEST(LogEvalCurves, WritesPrCurvesRocAndConfusionImages) {
  torch::manual_seed(5);
  const auto targets = torch::randint(0, 3, {30}, torch::kLong);
  const std::vector<std::string> names{"normal", "benign", "malignant"};
  const auto values = logged(Task::kMulticlass, {torch::randn({30, 3}), targets}, names);
  for (size_t c = 0; c < names.size(); ++c) {
    const auto* pr = find(values, "val/pr_curve/" + names[c]);
    ASSERT_NE(pr, nullptr) << names[c];
    EXPECT_EQ(pr->kind, metrics::EventValue::Kind::kTensor);
    EXPECT_EQ(pr->plugin, "pr_curves");
    ASSERT_EQ(pr->shape, (std::vector<int64_t>{6, 201}));
    EXPECT_EQ(pr->step, 7);
    // At threshold 0 every sample is called positive: TP + FN are the class's samples, FP + TN the rest.
    const auto of_class = static_cast<float>(targets.eq(static_cast<int64_t>(c)).sum().item<int64_t>());
    EXPECT_EQ(pr->floats.at(0) + pr->floats.at(3 * 201), of_class) << names[c];
    EXPECT_EQ(pr->floats.at(201) + pr->floats.at(2 * 201), 30.0f - of_class) << names[c];
  }
  const auto* roc = find(values, "val/roc");
  ASSERT_NE(roc, nullptr);
  EXPECT_EQ(roc->kind, metrics::EventValue::Kind::kImage);
  EXPECT_EQ(roc->width, 640);
  EXPECT_EQ(roc->height, 480);
  ASSERT_NE(find(values, "val/confusion_matrix"), nullptr);
  EXPECT_EQ(find(values, "val/confusion_matrix")->kind, metrics::EventValue::Kind::kImage);
}

TEST(LogEvalCurves, MultilabelHasAConfusionImagePerLabel) {
  const auto logits = torch::tensor({{2.0f, -1.0f}, {0.5f, -2.0f}, {-1.0f, 3.0f}});
  const auto targets = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 0.0f}});
  const auto values = logged(Task::kMultilabel, {logits, targets}, {"effusion"});
  for (const std::string name : {"effusion", "class1"}) {
    EXPECT_NE(find(values, "val/pr_curve/" + name), nullptr) << name;
    EXPECT_NE(find(values, "val/confusion_matrix/" + name), nullptr) << name;
  }
  EXPECT_EQ(find(values, "val/confusion_matrix"), nullptr);
  EXPECT_NE(find(values, "val/roc"), nullptr);
}

TEST(LogEvalCurves, NonFiniteLogitsLogOnlyTheConfusionMatrix) {
  const float inf = std::numeric_limits<float>::infinity();
  const auto values =
      logged(Task::kMulticlass, {torch::tensor({{inf, 0.0f}, {0.0f, 1.0f}}), torch::tensor({0, 1}, torch::kLong)}, {});
  EXPECT_EQ(find(values, "val/pr_curve/class0"), nullptr);
  EXPECT_EQ(find(values, "val/roc"), nullptr);
  EXPECT_NE(find(values, "val/confusion_matrix"), nullptr);
}

TEST(LogEvalCurves, NothingWithoutTensorBoardOrForOtherTasks) {
  const EvalOutputs out{torch::randn({4, 2}), torch::tensor({0, 1, 0, 1}, torch::kLong)};
  EXPECT_TRUE(logged(Task::kMulticlass, out, {}, false).empty());
  EXPECT_TRUE(logged(Task::kSegmentation, out, {}).empty());
}

}  // namespace
}  // namespace medtrain::engine
