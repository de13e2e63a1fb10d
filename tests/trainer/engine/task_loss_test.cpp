// Losses and metrics of the multilabel and segmentation tasks against
// independent references computed in Python (tests/trainer/engine/
// task_reference.py): MONAI's DiceCELoss, torch's BCEWithLogitsLoss, a
// brute-force pairwise AUROC and a per-pixel Dice count. Also the task
// resolution rules (which model may do which task).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "data/npy_writer.h"
#include "tests/common/temp_dir.h"
#include "trainer/config/config_loader.h"
#include "trainer/engine/task.h"
#include "trainer/metrics/classification_metrics.h"
#include "trainer/metrics/dice.h"
#include "trainer/user_error.h"

namespace medtrain::engine {
namespace {

nlohmann::json reference(const std::string& mode, const torch::Tensor& logits, const torch::Tensor& targets) {
  testing::TempDir dir("medtrain_task");
  std::ofstream(dir.path() / "mode.txt") << mode;
  const auto l = logits.to(torch::kFloat32).contiguous(), t = targets.to(torch::kFloat32).contiguous();
  data::write_npy_f32((dir.path() / "logits.npy").string(), l.data_ptr<float>(), l.sizes().vec());
  data::write_npy_f32((dir.path() / "targets.npy").string(), t.data_ptr<float>(), t.sizes().vec());
  const std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + MEDTRAIN_SOURCE_DIR +
                          "/tests/trainer/engine/task_reference.py " + dir.path().string();
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string text;
  char buf[4096];
  while (pipe && fgets(buf, sizeof(buf), pipe)) text += buf;
  const int rc = pipe ? pclose(pipe) : -1;
  if (rc != 0) throw std::runtime_error("reference failed: " + cmd);
  return nlohmann::json::parse(text);
}

class SegmentationLoss : public ::testing::TestWithParam<std::vector<int64_t>> {};

TEST_P(SegmentationLoss, MatchesMonaiDiceCeLoss) {
  torch::manual_seed(3);
  const auto shape = GetParam();  // [N, K, *spatial]
  const auto logits = torch::randn(shape, torch::kFloat32) * 2;
  std::vector<int64_t> target_shape{shape[0]};
  target_shape.insert(target_shape.end(), shape.begin() + 2, shape.end());
  const auto targets = torch::randint(0, shape[1], target_shape, torch::kLong);
  const auto ref = reference("segmentation", logits, targets);
  const double dice = soft_dice_loss(logits, targets).item<double>();
  const double total = task_loss(Task::kSegmentation, logits, targets, false).item<double>();
  EXPECT_NEAR(dice, ref["dice"].get<double>(), 1e-5);
  EXPECT_NEAR(total, ref["dice_ce"].get<double>(), 1e-5);

  metrics::DiceCounts counts;
  counts.add(logits.narrow(0, 0, 1), targets.narrow(0, 0, 1));  // two batches add up to the whole set
  counts.add(logits.narrow(0, 1, shape[0] - 1), targets.narrow(0, 1, shape[0] - 1));
  const auto per_class = metrics::dice_per_class(counts);
  ASSERT_EQ(per_class.size(), ref["dice_per_class"].size());
  for (size_t c = 0; c < per_class.size(); ++c) {
    EXPECT_NEAR(per_class[c], ref["dice_per_class"][c].get<double>(), 1e-12) << "class " << c;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, SegmentationLoss,
                         ::testing::Values(std::vector<int64_t>{3, 2, 8, 8}, std::vector<int64_t>{2, 4, 6, 5},
                                           std::vector<int64_t>{2, 3, 4, 6, 5}));

TEST(SegmentationLoss, PerfectPredictionHasNoDiceLoss) {
  const auto targets = torch::randint(0, 3, {2, 5, 5}, torch::kLong);
  const auto logits = torch::one_hot(targets, 3).movedim(-1, 1).to(torch::kFloat32) * 50;
  EXPECT_LT(soft_dice_loss(logits, targets).item<double>(), 1e-6);
  metrics::DiceCounts counts;
  counts.add(logits, targets);
  for (double d : metrics::dice_per_class(counts)) EXPECT_DOUBLE_EQ(d, 1.0);
}

TEST(DiceMetric, AbsentClassIsNanAndBackgroundIsLeftOutOfTheMean) {
  const std::vector<double> per_class{0.99, 0.5, std::nan("")};
  EXPECT_DOUBLE_EQ(metrics::mean_foreground_dice(per_class), 0.5);
  EXPECT_THROW(metrics::DiceCounts().add(torch::zeros({2, 3, 4, 4}), torch::zeros({2, 4, 5}, torch::kLong)),
               std::invalid_argument);
}

TEST(MultilabelLoss, MatchesTorchBceAndPairwiseAuroc) {
  torch::manual_seed(5);
  const auto logits = torch::randn({40, 4});
  auto targets = (torch::rand({40, 4}) < 0.4).to(torch::kFloat32);
  targets.select(1, 3).fill_(1);  // one label with a single outcome: no AUROC
  const auto ref = reference("multilabel", logits, targets);
  EXPECT_NEAR(task_loss(Task::kMultilabel, logits, targets, false).item<double>(), ref["bce"].get<double>(), 1e-6);
  const auto per_label = metrics::auroc_per_label(logits, targets);
  ASSERT_EQ(per_label.size(), 4u);
  for (size_t l = 0; l < 3; ++l) EXPECT_NEAR(per_label[l], ref["auroc"][l].get<double>(), 1e-12) << "label " << l;
  EXPECT_TRUE(ref["auroc"][3].is_null());
  EXPECT_TRUE(std::isnan(per_label[3]));
}

TEST(TokenTaggingLoss, MatchesTorchCrossEntropyIgnoringMinus100) {
  torch::manual_seed(9);
  const int64_t n = 3, len = 11, k = 7;
  const auto logits = torch::randn({n, len, k}) * 3;
  auto tags = torch::randint(0, k, {n, len}, torch::kLong);
  tags.select(1, 0).fill_(-100);                        // [CLS]
  tags[0].narrow(0, 6, len - 6).fill_(-100);            // a short text: [SEP] and padding
  tags[1].narrow(0, 9, len - 9).fill_(-100);
  tags[2][len - 1] = -100;
  const auto ref = reference("token_tagging", logits, tags);
  const double ours = task_loss(Task::kTokenTagging, logits, tags, false).item<double>();
  EXPECT_NEAR(ours, ref["ce"].get<double>(), 1e-6);
  // The pad positions do not count: changing their logits changes nothing.
  auto noisy = logits.clone();
  noisy.masked_fill_(tags.eq(-100).unsqueeze(-1), 100.0);
  EXPECT_NEAR(task_loss(Task::kTokenTagging, noisy, tags, false).item<double>(), ours, 1e-6);
  // and half precision logits are scored in float32 (a scalar float32 loss)
  const auto half = task_loss(Task::kTokenTagging, logits.to(torch::kBFloat16), tags, false);
  EXPECT_EQ(half.scalar_type(), torch::kFloat32);
  EXPECT_EQ(half.dim(), 0);
}

config::Config with(const std::vector<std::string>& overrides) { return config::config_from_overrides(overrides); }

TEST(ResolveTask, AutoFollowsTheModelZoo) {
  EXPECT_EQ(resolve_task(with({"model.name=resnet18"})), Task::kMulticlass);
  EXPECT_EQ(resolve_task(with({"model.name=unet2d"})), Task::kSegmentation);
  EXPECT_EQ(resolve_task(with({"model.name=unet3d", "data.depth=16"})), Task::kSegmentation);
  EXPECT_EQ(resolve_task(with({"model.name=densenet121", "model.task=multilabel"})), Task::kMultilabel);
}

void expect_user_error(const std::vector<std::string>& overrides, const std::string& part) {
  try {
    resolve_task(with(overrides));
    ADD_FAILURE() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(ResolveTask, MismatchesAreUserErrors) {
  expect_user_error({"model.name=resnet18", "model.task=segmentation"},
                    "model.task segmentation does not fit model.name resnet18");
  expect_user_error({"model.name=unet2d", "model.task=multilabel"}, "use model.task: segmentation");
  expect_user_error({"model.name=unet3d"}, "set data.depth to the slices per volume");
  expect_user_error({"model.name=unet2d", "data.depth=8"}, "0 means 2D images");
  expect_user_error({"model.name=resnet18", "data.depth=8"}, "takes 2D images");
}

}  // namespace
}  // namespace medtrain::engine
