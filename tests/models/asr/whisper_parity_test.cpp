// Whisper parity with Hugging Face (tests/models/asr/whisper_reference.py): a
// small random WhisperForConditionalGeneration saved by save_pretrained loads
// unchanged; encoder output and decoder logits agree with transformers to 1e-5
// relative (fp32, CPU); decoding with the KV cache gives the logits of the
// whole-sequence pass; greedy decoding reproduces HF generate(do_sample=False)
// token for token (suppression, eos on one row, the length limit on others);
// beam search reproduces HF generate(num_beams, length_penalty,
// early_stopping=True) sequences and scores, and beam size 1 is greedy;
// our own export reloads; the stored encoder positions are our sinusoid;
// configs that do not fit the weights, foreign
// positions, untied outputs and wrong input shapes are one ModelError each.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "models/asr/whisper.h"
#include "models/asr/whisper_beam.h"
#include "models/asr/whisper_greedy.h"
#include "models/asr/whisper_hf_folder.h"
#include "models/model_error.h"
#include "models/safetensors.h"
#include "models/state_dict.h"
#include "tests/common/python_reference.h"
#include "tests/common/temp_dir.h"

namespace fs = std::filesystem;
using namespace medtrain::models;
using medtrain::testing::tensor_named;
using namespace medtrain::models::asr;

namespace {

// The reference's sizes, without the closing brace (tests append keys).
const std::string kSmallConfig = R"({"model_type": "whisper", "vocab_size": 100, "num_mel_bins": 80, "d_model": 64,
    "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 4, "decoder_attention_heads": 4,
    "encoder_ffn_dim": 128, "decoder_ffn_dim": 96, "max_source_positions": 16, "max_target_positions": 32)";

const fs::path& reference() { return medtrain::testing::python_reference("tests/models/asr/whisper_reference.py"); }

const SafetensorsFile& io() {
  static const SafetensorsFile file = load_safetensors(reference() / "io.safetensors");
  return file;
}

double relative_error(const torch::Tensor& ours, const torch::Tensor& ref) {
  return (ours - ref).abs().max().item<double>() / ref.abs().max().item<double>();
}

std::string load_error(const fs::path& dir) {
  try {
    load_hf_whisper(dir);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(no ModelError)";
}

// HF's rows after the prompt, up to (without) eos: what greedy_decode returns.
std::vector<int64_t> hf_row(const torch::Tensor& generated, int64_t row, int64_t eos, bool& ended) {
  std::vector<int64_t> ids;
  ended = false;
  for (int64_t i = 2; i < generated.size(1); ++i) {
    const int64_t id = generated[row][i].item<int64_t>();
    if (id == eos) {
      ended = true;
      break;
    }
    ids.push_back(id);
  }
  return ids;
}

void check_forward(HfWhisper& w) {
  torch::NoGradGuard no_grad;
  const auto encoded = w.model->encode(tensor_named(io(), "input_features"));
  EXPECT_LE(relative_error(encoded, tensor_named(io(), "encoder_out")), 1e-5);
  const auto logits = w.model->decode(tensor_named(io(), "decoder_input_ids"), encoded);
  EXPECT_LE(relative_error(logits, tensor_named(io(), "logits")), 1e-5);
}

void check_cache(HfWhisper& w) {
  torch::NoGradGuard no_grad;
  const auto encoded = w.model->encode(tensor_named(io(), "input_features"));
  const auto tokens = tensor_named(io(), "decoder_input_ids");
  const auto whole = w.model->decode(tokens, encoded);
  WhisperKvCache cache;
  // The prompt in one call, then one token per call, as greedy decoding does.
  std::vector<torch::Tensor> steps{w.model->decode(tokens.slice(1, 0, 2), encoded, &cache)};
  for (int64_t i = 2; i < tokens.size(1); ++i) {
    steps.push_back(w.model->decode(tokens.slice(1, i, i + 1), encoded, &cache));
    EXPECT_EQ(cache.length(), i + 1);
  }
  EXPECT_LE(relative_error(torch::cat(steps, 1), whole), 1e-5);
  EXPECT_LE(relative_error(torch::cat(steps, 1), tensor_named(io(), "logits")), 1e-5);
  // Several tokens after a cached prefix: the causal mask must be offset by the past.
  WhisperKvCache prefixed;
  w.model->decode(tokens.slice(1, 0, 2), encoded, &prefixed);
  const auto rest = w.model->decode(tokens.slice(1, 2), encoded, &prefixed);
  EXPECT_LE(relative_error(rest, whole.slice(1, 2)), 1e-5);
  EXPECT_EQ(prefixed.length(), tokens.size(1));
}

void check_greedy(HfWhisper& w) {
  const WhisperConfig& c = w.model->config();
  ASSERT_EQ(english_prompt(c), (std::vector<int64_t>{3, 4}));
  ASSERT_FALSE(c.suppress_tokens.empty());
  ASSERT_FALSE(c.begin_suppress_tokens.empty());
  const auto generated = tensor_named(io(), "generated");
  const int64_t max_new = generated.size(1) - 2;
  for (const bool cached : {true, false}) {
    const GreedyResult r =
        greedy_decode(w.model, tensor_named(io(), "input_features"), {english_prompt(c), max_new, cached});
    int ended_rows = 0;
    for (int64_t row = 0; row < generated.size(0); ++row) {
      bool ended = false;
      EXPECT_EQ(r.tokens[row], hf_row(generated, row, c.eos_token_id, ended)) << "row " << row << " cached " << cached;
      EXPECT_EQ(r.ended[row], ended) << "row " << row;
      ended_rows += ended;
    }
    // The reference is built so that both ways of stopping happen.
    EXPECT_GT(ended_rows, 0);
    EXPECT_LT(ended_rows, generated.size(0));
  }
}

void check_beam_one_is_greedy(HfWhisper& w) {
  const auto generated = tensor_named(io(), "generated");
  const BeamOptions options{english_prompt(w.model->config()), 1, generated.size(1) - 2};
  const auto best = beam_decode(w.model, tensor_named(io(), "input_features"), options);
  for (int64_t row = 0; row < generated.size(0); ++row) {
    bool ended = false;
    EXPECT_EQ(best[row].tokens, hf_row(generated, row, w.model->config().eos_token_id, ended)) << "row " << row;
    EXPECT_EQ(best[row].ended, ended) << "row " << row;
  }
}

// HF's beam search on the model without suppression (HF suppresses after the
// log-softmax, without renormalising; CTranslate2 and medtrain before it), with
// <|endoftext|> counted in the length as HF does: the same best sequences and
// scores (sum log-prob / length^length_penalty).
void check_beam_vs_hf() {
  HfWhisper plain = load_hf_whisper(reference() / "plain");
  ASSERT_TRUE(plain.model->config().suppress_tokens.empty());
  ASSERT_TRUE(plain.model->config().begin_suppress_tokens.empty());
  const SafetensorsFile hf = load_safetensors(reference() / "beam.safetensors");
  const int64_t eos = plain.model->config().eos_token_id;
  struct Setting {
    int64_t beams;
    double length_penalty;
    std::string name;  // the reference's
  };
  const int64_t max_new = tensor_named(hf, "max_new_tokens").item<int64_t>();
  int ended_rows = 0, limited_rows = 0;
  for (const Setting& s : {Setting{3, 1.0, "beam3_1.0"}, Setting{4, 0.0, "beam4_0.0"}, Setting{5, 0.5, "beam5_0.5"}}) {
    const auto sequences = tensor_named(hf, s.name), scores = tensor_named(hf, s.name + "_scores");
    const BeamOptions options{{3, 4}, s.beams, max_new, s.length_penalty, 1.0, /*eos_in_length=*/true};
    const auto best = beam_decode(plain.model, tensor_named(io(), "input_features"), options);
    for (int64_t row = 0; row < sequences.size(0); ++row) {
      bool ended = false;
      EXPECT_EQ(best[row].tokens, hf_row(sequences, row, eos, ended)) << s.name << " row " << row;
      EXPECT_EQ(best[row].ended, ended) << s.name << " row " << row;
      EXPECT_NEAR(best[row].score, scores[row].item<double>(), 1e-4) << s.name << " row " << row;
      ended_rows += ended;
      limited_rows += !ended;
    }
  }
  // The reference has hypotheses ending both ways.
  EXPECT_GT(ended_rows, 0);
  EXPECT_GT(limited_rows, 0);
}

void check_export(HfWhisper& w) {
  medtrain::testing::TempDir dir("medtrain_whisper_export");
  fs::copy_file(reference() / "tiny" / "config.json", dir.path() / "config.json");
  save_safetensors(dir.path() / "model.safetensors", state_dict(*w.model));
  HfWhisper again = load_hf_whisper(dir.path());
  torch::NoGradGuard no_grad;
  const auto x = tensor_named(io(), "input_features");
  EXPECT_TRUE(torch::equal(again.model->encode(x), w.model->encode(x)));
  // The suppression is in generation_config.json only (not copied here).
  EXPECT_FALSE(w.model->config().suppress_tokens.empty());
  EXPECT_TRUE(again.model->config().suppress_tokens.empty());
  EXPECT_EQ(again.model->config().eos_token_id, w.model->config().eos_token_id);
}

void check_sinusoid() {
  // HF initialises the encoder's embed_positions with its sinusoids() and saves it.
  const auto stored = tensor_named(load_safetensors(reference() / "tiny" / "model.safetensors"),
                          "model.encoder.embed_positions.weight");
  const auto ours = whisper_sinusoids(stored.size(0), stored.size(1));
  EXPECT_LE((ours - stored).abs().max().item<double>(), 1e-6);
}

}  // namespace

// One test for everything that needs the Python reference: ctest runs each
// test in its own process, and the reference takes seconds to build.
TEST(WhisperParity, MatchesTransformers) {
  HfWhisper w = load_hf_whisper(reference() / "tiny");
  check_forward(w);
  check_cache(w);
  check_greedy(w);
  check_beam_one_is_greedy(w);
  check_beam_vs_hf();
  check_export(w);
  check_sinusoid();
}

TEST(WhisperBadInput, FoldersWhoseConfigOrWeightsDoNotFitAreRefused) {
  std::string e = load_error(reference() / "bad_layers");
  EXPECT_NE(e.find("model.decoder.layers.0.fc1.weight"), std::string::npos) << e;
  EXPECT_NE(e.find("missing"), std::string::npos) << e;
  EXPECT_NE(e.find("model.decoder.layers.2."), std::string::npos) << e;
  e = load_error(reference() / "bad_positions");
  EXPECT_NE(e.find("sinusoid"), std::string::npos) << e;
  e = load_error(reference() / "untied");
  EXPECT_NE(e.find("proj_out.weight differs"), std::string::npos) << e;
}

TEST(WhisperBadInput, ConfigErrorsNameTheKey) {
  EXPECT_NO_THROW(parse_whisper_config(kSmallConfig + "}", "c.json"));
  auto error = [&](const std::string& extra) {
    try {
      parse_whisper_config(kSmallConfig + extra + "}", "c.json");
    } catch (const ModelError& e) {
      return std::string(e.what());
    }
    return std::string("(no ModelError)");
  };
  EXPECT_NE(error(R"(, "activation_function": "relu")").find("activation_function"), std::string::npos);
  EXPECT_NE(error(R"(, "eos_token_id": 100)").find("outside the vocabulary"), std::string::npos);
  EXPECT_NE(error(R"(, "decoder_attention_heads": 5)").find("does not divide"), std::string::npos);
  EXPECT_NE(error(R"(, "tie_word_embeddings": false)").find("tie_word_embeddings"), std::string::npos);
  EXPECT_THROW(parse_whisper_config(R"({"model_type": "whisper", "d_model": 64})", "c.json"), ModelError);
  EXPECT_THROW(parse_whisper_config(R"({"model_type": "bert"})", "c.json"), ModelError);
  EXPECT_THROW(parse_whisper_config("[1", "c.json"), ModelError);
}

TEST(WhisperBadInput, BeamOptionsAreOneLineErrors) {
  Whisper model(parse_whisper_config(kSmallConfig + R"(, "eos_token_id": 2})", "c.json"));
  const auto x = torch::zeros({1, 80, 32});
  auto error = [&](const BeamOptions& o) {
    try {
      beam_decode(model, x, o);
    } catch (const ModelError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
      return std::string(e.what());
    }
    return std::string("(no ModelError)");
  };
  const std::vector<int64_t> prompt{3, 4};
  EXPECT_NE(error({prompt, 0}).find("beam_size must be >= 1, got 0"), std::string::npos);
  EXPECT_NE(error({prompt, -3}).find("beam_size must be >= 1"), std::string::npos);
  EXPECT_NE(error({prompt, 51}).find("beam_size 51 is too large (at most 50"), std::string::npos);  // vocab 100
  EXPECT_NE(error({prompt, 1'000'000'000}).find("too large"), std::string::npos);
  EXPECT_NE(error({prompt, 2, 31}).find("max_new_tokens 31 is outside [0, 30]"), std::string::npos);
  EXPECT_NE(error({prompt, 2, -1}).find("max_new_tokens -1"), std::string::npos);
  EXPECT_NE(error({prompt, 2, 0, 1.0, 0.0}).find("patience"), std::string::npos);
  EXPECT_NE(error({prompt, 1, 0, 1.0, 0.4}).find("patience"), std::string::npos);  // round(0.4) finished: none
  EXPECT_NE(error({prompt, 2, 0, std::nan("")}).find("length_penalty"), std::string::npos);
  EXPECT_NE(error({{}, 2}).find("empty prompt"), std::string::npos);
  EXPECT_NE(error({std::vector<int64_t>(32, 3), 2}).find("no room"), std::string::npos);
  EXPECT_NE(error({{3, 100}, 2}).find("outside the vocabulary"), std::string::npos);
  Whisper no_eos(parse_whisper_config(kSmallConfig + "}", "c.json"));
  try {
    beam_decode(no_eos, x, {prompt, 2});
    ADD_FAILURE() << "no ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("no eos_token_id"), std::string::npos) << e.what();
  }
  torch::NoGradGuard no_grad;
  EXPECT_THROW(beam_search(model, torch::zeros({2, 64}), {prompt, 2}), ModelError);
  EXPECT_TRUE(beam_search(model, torch::zeros({0, 16, 64}), {prompt, 2}).empty());
  // The largest beam and the longest output still run.
  const auto best = beam_decode(model, x, {prompt, 50, 30});
  ASSERT_EQ(best.size(), 1u);
  EXPECT_LE(best[0].tokens.size(), 30u);
}

TEST(WhisperBadInput, WrongShapesAreOneLineErrors) {
  Whisper model(parse_whisper_config(kSmallConfig + R"(, "eos_token_id": 2})", "c.json"));
  torch::NoGradGuard no_grad;
  EXPECT_THROW(model->encode(torch::zeros({1, 80, 3000})), ModelError);  // a real model's 30 s, not this one's
  EXPECT_THROW(model->encode(torch::zeros({1, 64, 32})), ModelError);
  EXPECT_THROW(model->encode(torch::zeros({80, 32})), ModelError);
  EXPECT_THROW(model->encode(torch::zeros({1, 80, 32}, torch::kLong)), ModelError);
  const auto states = model->encode(torch::zeros({2, 80, 32}));
  EXPECT_THROW(model->decode(torch::full({2, 1}, 100, torch::kLong), states), ModelError);   // id >= vocab
  EXPECT_THROW(model->decode(torch::zeros({2, 33}, torch::kLong), states), ModelError);      // > max_target_positions
  EXPECT_THROW(model->decode(torch::zeros({3, 1}, torch::kLong), states), ModelError);       // batch mismatch
  EXPECT_THROW(model->decode(torch::zeros({2, 1}, torch::kInt), states), ModelError);
  EXPECT_THROW(greedy_decode(model, torch::zeros({1, 80, 32}), {std::vector<int64_t>(32, 3), 0, true}), ModelError);
  EXPECT_THROW(greedy_decode(model, torch::zeros({1, 80, 32}), {{}, 0, true}), ModelError);
}
