// Note [CTranslate2 -> HF names]: ctranslate2's WhisperLoader
// (python/ctranslate2/converters/transformers.py) writes HF's Whisper as
//   encoder/conv{1,2}/{weight,bias}              model.encoder.conv{1,2}.*
//   encoder/position_encodings/encodings         model.encoder.embed_positions.weight
//   {en,de}coder/layer_N/self_attention/linear_0 q;k;v fused along rows -> self_attn.{q,k,v}_proj
//   .../self_attention/linear_1                  self_attn.out_proj
//   .../self_attention/layer_norm/{gamma,beta}   self_attn_layer_norm.{weight,bias}
//   decoder/layer_N/attention/linear_0           encoder_attn.q_proj
//   decoder/layer_N/attention/linear_1           k;v fused -> encoder_attn.{k,v}_proj
//   decoder/layer_N/attention/linear_2           encoder_attn.out_proj
//   decoder/layer_N/attention/layer_norm         encoder_attn_layer_norm
//   .../ffn/linear_{0,1}, .../ffn/layer_norm     fc1, fc2, final_layer_norm
//   {en,de}coder/layer_norm                      model.{en,de}coder.layer_norm
//   decoder/embeddings/weight                    model.decoder.embed_tokens.weight
//   decoder/position_encodings/encodings         model.decoder.embed_positions.weight
//   decoder/projection/weight                    proj_out.weight (an alias of the embedding
//                                                when tied, as in every OpenAI checkpoint)
// HF's k_proj has no bias; the converter fills the fused K slot with zeros. It
// is dropped: a key bias adds q.b_k to every logit of a query alike, which the
// softmax cancels, so dropping it changes nothing even where it is not zero.
// The scalars are flags of ctranslate2's generic decoder: those that would
// change the computation must hold Whisper's values (GELU, pre-norm, no
// embedding scale, no ALiBi, positions from 0); num_heads gives the head
// counts; alignment_heads/alignment_layer (word-timestamp hints) and the
// ALiBi details are ignored. Any other variable or alias is an error, so
// nothing in the file goes unmapped. The writer aliases any two equal
// non-scalar variables (keeping the alphabetically first), so every name is
// looked up through the aliases; a quantized weight's scale is looked up under
// its target's name, as ctranslate2's loader does.
#include "models/asr/whisper_ct2_weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "models/asr/ct2_tensors.h"
#include "models/model_error.h"

namespace medtrain::models::asr {

namespace {

class Mapper {
 public:
  Mapper(const Ct2ModelFile& f, torch::ScalarType dtype) : f_(f), dtype_(dtype), used_(f.variables.size()) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw ModelError(fmt::format("{}: {}", f_.origin, what));
  }

  const Ct2Variable* maybe(const std::string& name) {
    const auto it = f_.by_name.find(name);
    if (it == f_.by_name.end()) return nullptr;
    asked_.insert(name);
    used_[it->second] = true;
    return &f_.variables[it->second];
  }

  const Ct2Variable& var(const std::string& name) {
    const Ct2Variable* v = maybe(name);
    if (v == nullptr) fail(fmt::format("missing variable {} (not a Whisper model, or a truncated conversion?)", name));
    return *v;
  }

  int64_t dim(const std::string& name, size_t rank, size_t axis) {
    const Ct2Variable& v = var(name);
    if (v.shape.size() != rank) {
      fail(fmt::format("variable {} has rank {}, expected {}", name, v.shape.size(), rank));
    }
    return v.shape[axis];
  }

  int64_t scalar(const std::string& name) { return var(name).int_scalar(f_.origin); }

  std::optional<int64_t> optional_scalar(const std::string& name) {
    const Ct2Variable* v = maybe(name);
    if (v == nullptr) return std::nullopt;
    return v->int_scalar(f_.origin);
  }

  torch::Tensor take(const std::string& name, const std::vector<int64_t>& shape) {
    const Ct2Variable& v = var(name);
    if (!std::equal(v.shape.begin(), v.shape.end(), shape.begin(), shape.end())) {
      fail(fmt::format("variable {} has shape [{}], expected [{}]", name, fmt::join(v.shape, ", "),
                       fmt::join(shape, ", ")));
    }
    std::string scale;
    torch::Tensor t = ct2_weight(f_, name, dtype_, &scale);
    if (!scale.empty()) {
      maybe(scale);
      dequantized_ = true;
    }
    return t;
  }

  void put(const std::string& hf, torch::Tensor t) { out_.emplace_back(hf, std::move(t)); }

  void linear(const std::string& ct2, const std::string& hf, int64_t out, int64_t in) {
    put(hf + ".weight", take(ct2 + "/weight", {out, in}));
    put(hf + ".bias", take(ct2 + "/bias", {out}));
  }

  void layer_norm(const std::string& ct2, const std::string& hf, int64_t d) {
    put(hf + ".weight", take(ct2 + "/gamma", {d}));
    put(hf + ".bias", take(ct2 + "/beta", {d}));
  }

  // Rows of a fused linear split among `parts` (in order, "" = the key bias
  // slot, dropped: see the Note).
  void fused(const std::string& ct2, const std::string& hf, const std::vector<std::string>& parts, int64_t d) {
    const auto n = static_cast<int64_t>(parts.size());
    const torch::Tensor w = take(ct2 + "/weight", {n * d, d});
    const torch::Tensor b = take(ct2 + "/bias", {n * d});
    for (int64_t i = 0; i < n; ++i) {
      const std::string p = hf + "." + parts[i];
      put(p + ".weight", w.narrow(0, i * d, d).clone());
      if (parts[i] != "k_proj") put(p + ".bias", b.narrow(0, i * d, d).clone());
    }
  }

  // Names the file holds that nothing asked for.
  void check_all_used() const {
    for (size_t i = 0; i < used_.size(); ++i) {
      if (!used_[i]) fail(fmt::format("unexpected variable {} (not part of Whisper as mapped here)", f_.variables[i].name));
    }
    for (const Ct2Alias& a : f_.aliases) {
      if (asked_.count(a.name) == 0) fail(fmt::format("unexpected alias {} -> {}", a.name, a.target));
    }
  }

  NamedTensors take_output() { return std::move(out_); }
  bool dequantized() const { return dequantized_; }

 private:
  const Ct2ModelFile& f_;
  torch::ScalarType dtype_;
  std::vector<bool> used_;
  std::set<std::string> asked_;
  NamedTensors out_;
  bool dequantized_ = false;
};

int64_t count_layers(const Ct2ModelFile& f, const std::string& stack) {
  int64_t n = 0;
  while (f.find(fmt::format("{}/layer_{}/self_attention/linear_0/weight", stack, n)) != nullptr) ++n;
  return n;
}

int64_t heads(Mapper& m, const std::string& name, int64_t d_model) {
  const int64_t h = m.scalar(name);
  if (h <= 0 || d_model % h != 0) m.fail(fmt::format("{} = {} does not divide d_model {}", name, h, d_model));
  return h;
}

void require_flag(Mapper& m, const std::string& name, int64_t want, const char* meaning, bool required) {
  const std::optional<int64_t> v = required ? std::optional<int64_t>(m.scalar(name)) : m.optional_scalar(name);
  if (v && *v != want) m.fail(fmt::format("{} = {}: Whisper needs {} ({})", name, *v, want, meaning));
}

WhisperDims read_dims(Mapper& m, const Ct2ModelFile& f) {
  WhisperDims d;
  d.d_model = m.dim("encoder/conv1/weight", 3, 0);
  d.num_mel_bins = m.dim("encoder/conv1/weight", 3, 1);
  d.encoder_layers = count_layers(f, "encoder");
  d.decoder_layers = count_layers(f, "decoder");
  if (d.encoder_layers == 0 || d.decoder_layers == 0) {
    m.fail(fmt::format("{} encoder and {} decoder layers: a Whisper model has at least one of each",
                       d.encoder_layers, d.decoder_layers));
  }
  d.encoder_attention_heads = heads(m, "encoder/num_heads", d.d_model);
  d.decoder_attention_heads = heads(m, "decoder/num_heads", d.d_model);
  d.encoder_ffn_dim = m.dim("encoder/layer_0/ffn/linear_0/weight", 2, 0);
  d.decoder_ffn_dim = m.dim("decoder/layer_0/ffn/linear_0/weight", 2, 0);
  d.vocab_size = m.dim("decoder/embeddings/weight", 2, 0);
  d.max_source_positions = m.dim("encoder/position_encodings/encodings", 2, 0);
  d.max_target_positions = m.dim("decoder/position_encodings/encodings", 2, 0);
  return d;
}

void check_flags(Mapper& m) {
  require_flag(m, "decoder/activation", 3, "GELU, ctranslate2's Activation.GELU", true);
  require_flag(m, "decoder/pre_norm", 1, "pre-norm blocks", true);
  require_flag(m, "decoder/scale_embeddings", 0, "token embeddings are not scaled", false);
  require_flag(m, "decoder/alibi", 0, "learned positions, no ALiBi", false);
  require_flag(m, "decoder/start_from_zero_embedding", 0, "positions start at 0", false);
  for (const char* ignored : {"decoder/alignment_heads", "decoder/alignment_layer",
                              "decoder/alibi_use_positive_positions", "decoder/scale_alibi"}) {
    m.optional_scalar(ignored);
  }
}

void map_block(Mapper& m, const std::string& ct2, const std::string& hf, int64_t d, int64_t ffn, bool cross) {
  m.fused(ct2 + "/self_attention/linear_0", hf + ".self_attn", {"q_proj", "k_proj", "v_proj"}, d);
  m.linear(ct2 + "/self_attention/linear_1", hf + ".self_attn.out_proj", d, d);
  m.layer_norm(ct2 + "/self_attention/layer_norm", hf + ".self_attn_layer_norm", d);
  if (cross) {
    m.linear(ct2 + "/attention/linear_0", hf + ".encoder_attn.q_proj", d, d);
    m.fused(ct2 + "/attention/linear_1", hf + ".encoder_attn", {"k_proj", "v_proj"}, d);
    m.linear(ct2 + "/attention/linear_2", hf + ".encoder_attn.out_proj", d, d);
    m.layer_norm(ct2 + "/attention/layer_norm", hf + ".encoder_attn_layer_norm", d);
  }
  m.linear(ct2 + "/ffn/linear_0", hf + ".fc1", ffn, d);
  m.linear(ct2 + "/ffn/linear_1", hf + ".fc2", d, ffn);
  m.layer_norm(ct2 + "/ffn/layer_norm", hf + ".final_layer_norm", d);
}

void map_encoder(Mapper& m, const WhisperDims& d) {
  m.put("model.encoder.conv1.weight", m.take("encoder/conv1/weight", {d.d_model, d.num_mel_bins, 3}));
  m.put("model.encoder.conv1.bias", m.take("encoder/conv1/bias", {d.d_model}));
  m.put("model.encoder.conv2.weight", m.take("encoder/conv2/weight", {d.d_model, d.d_model, 3}));
  m.put("model.encoder.conv2.bias", m.take("encoder/conv2/bias", {d.d_model}));
  m.put("model.encoder.embed_positions.weight",
        m.take("encoder/position_encodings/encodings", {d.max_source_positions, d.d_model}));
  for (int64_t i = 0; i < d.encoder_layers; ++i) {
    map_block(m, fmt::format("encoder/layer_{}", i), fmt::format("model.encoder.layers.{}", i), d.d_model,
              d.encoder_ffn_dim, false);
  }
  m.layer_norm("encoder/layer_norm", "model.encoder.layer_norm", d.d_model);
}

// Returns whether the output projection is the token embedding.
bool map_decoder(Mapper& m, const Ct2ModelFile& f, const WhisperDims& d) {
  const torch::Tensor embed = m.take("decoder/embeddings/weight", {d.vocab_size, d.d_model});
  m.put("model.decoder.embed_tokens.weight", embed);
  m.put("model.decoder.embed_positions.weight",
        m.take("decoder/position_encodings/encodings", {d.max_target_positions, d.d_model}));
  for (int64_t i = 0; i < d.decoder_layers; ++i) {
    map_block(m, fmt::format("decoder/layer_{}", i), fmt::format("model.decoder.layers.{}", i), d.d_model,
              d.decoder_ffn_dim, true);
  }
  m.layer_norm("decoder/layer_norm", "model.decoder.layer_norm", d.d_model);
  const bool tied = f.find("decoder/projection/weight") == f.find("decoder/embeddings/weight");
  if (tied) {
    m.var("decoder/projection/weight");  // the alias: one tensor for both names, as HF ties them
    m.put("proj_out.weight", embed);
  } else {
    m.put("proj_out.weight", m.take("decoder/projection/weight", {d.vocab_size, d.d_model}));
  }
  return tied;
}

}  // namespace

WhisperCt2Weights whisper_weights_from_ct2(const Ct2ModelFile& file, torch::ScalarType dtype) {
  if (file.spec != kWhisperCt2Spec || file.spec_revision != kWhisperCt2Revision) {
    throw ModelError(fmt::format("{}: spec {} revision {} is not {} revision {}", file.origin, file.spec,
                                 file.spec_revision, kWhisperCt2Spec, kWhisperCt2Revision));
  }
  if (dtype != torch::kFloat32 && dtype != torch::kFloat16 && dtype != torch::kBFloat16) {
    throw ModelError(fmt::format("{}: Whisper weights load as float32, float16 or bfloat16, not {}", file.origin,
                                 c10::toString(dtype)));
  }
  Mapper m(file, dtype);
  WhisperCt2Weights w;
  w.dims = read_dims(m, file);
  check_flags(m);
  map_encoder(m, w.dims);
  w.tied_output = map_decoder(m, file, w.dims);
  m.check_all_used();
  w.dequantized = m.dequantized();
  w.state_dict = m.take_output();
  return w;
}

WhisperCt2Weights load_whisper_ct2(const std::filesystem::path& path, torch::ScalarType dtype) {
  std::error_code ec;
  const std::filesystem::path bin = std::filesystem::is_directory(path, ec) ? path / "model.bin" : path;
  const Ct2ModelFile file = read_ct2_model_file(bin.string(), {kWhisperCt2Spec, kWhisperCt2Revision});
  return whisper_weights_from_ct2(file, dtype);
}

}  // namespace medtrain::models::asr
