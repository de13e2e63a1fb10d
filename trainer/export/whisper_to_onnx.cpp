#include "trainer/export/whisper_to_onnx.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "models/state_dict.h"
#include "trainer/export/torch_to_onnx.h"
#include "trainer/version.h"

namespace medtrain::exporter {
namespace {

using models::asr::WhisperConfig;

// Writes one graph node by node; see Note [Whisper graphs are built, not traced].
class GraphBuilder {
 public:
  GraphBuilder(models::asr::Whisper& model, const std::string& name) : config_(model->config()) {
    for (auto& [key, t] : models::state_dict(*model)) params_[key] = t;
    graph_.name = name;
    graph_.opset = kOnnxOpset;
    graph_.producer_version = kVersion;
  }
  const WhisperConfig& config() const { return config_; }

  // A state-dict tensor as an initializer (added on first use).
  std::string weight(const std::string& key) {
    if (used_.insert(key).second) {
      const at::Tensor t = params_.at(key).detach().to(at::kCPU, at::kFloat).contiguous();
      OnnxInitializer init;
      init.name = key;
      init.dims = t.sizes().vec();
      init.floats.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
      graph_.initializers.push_back(std::move(init));
    }
    return key;
  }
  std::string real(double value) {
    const std::string name = fresh("const");
    OnnxInitializer init;
    init.name = name;
    init.floats = {static_cast<float>(value)};  // dims {}: a scalar
    graph_.initializers.push_back(std::move(init));
    return name;
  }
  // int64 values; scalar (dims {}) when `scalar`.
  std::string ints(std::vector<int64_t> values, bool scalar = false) {
    const std::string name = fresh("const");
    OnnxInitializer init;
    init.name = name;
    if (!scalar) init.dims = {static_cast<int64_t>(values.size())};
    init.is_int64 = true;
    init.int64s = std::move(values);
    graph_.initializers.push_back(std::move(init));
    return name;
  }
  // One node with one output; returns the output's name (`out`, or a fresh one).
  std::string node(const std::string& op, std::vector<std::string> inputs, std::vector<OnnxAttribute> attrs = {},
                   std::string out = "") {
    if (out.empty()) out = fresh("t");
    OnnxNode n;
    n.op_type = op;
    n.name = op + "_" + std::to_string(graph_.nodes.size());
    n.inputs = std::move(inputs);
    n.outputs = {out};
    n.attributes = std::move(attrs);
    graph_.nodes.push_back(std::move(n));
    return out;
  }

  // x @ W^T (+ b), x of any rank: the weight keeps the state dict's [out, in].
  std::string linear(const std::string& x, const std::string& prefix, bool bias = true) {
    const std::string wt = node("Transpose", {weight(prefix + ".weight")}, {OnnxAttribute::integers("perm", {1, 0})});
    const std::string y = node("MatMul", {x, wt});
    return bias ? node("Add", {y, weight(prefix + ".bias")}) : y;
  }
  std::string layer_norm(const std::string& x, const std::string& prefix) {
    return node("LayerNormalization", {x, weight(prefix + ".weight"), weight(prefix + ".bias")},
                {OnnxAttribute::integer("axis", -1), OnnxAttribute::real("epsilon", 1e-5f)});
  }
  // Exact GELU, 0.5 x (1 + erf(x / sqrt 2)): opset 17 has no Gelu.
  std::string gelu(const std::string& x) {
    const std::string erf = node("Erf", {node("Mul", {x, real(M_SQRT1_2)})});
    return node("Mul", {node("Mul", {x, node("Add", {erf, real(1.0)})}), real(0.5)});
  }
  // [B, T, D] -> [B, heads, T, head_dim].
  std::string split_heads(const std::string& x, int64_t heads) {
    const std::string r = node("Reshape", {x, ints({0, 0, heads, config_.d_model / heads})});
    return node("Transpose", {r}, {OnnxAttribute::integers("perm", {0, 2, 1, 3})});
  }
  // softmax(q k^T + bias) v with q already scaled, heads merged back, out_proj.
  std::string attend(const std::string& q, const std::string& k, const std::string& v, const std::string& bias,
                     const std::string& prefix) {
    const std::string kt = node("Transpose", {k}, {OnnxAttribute::integers("perm", {0, 1, 3, 2})});
    std::string scores = node("MatMul", {q, kt});
    if (!bias.empty()) scores = node("Add", {scores, bias});
    const std::string weights = node("Softmax", {scores}, {OnnxAttribute::integer("axis", -1)});
    const std::string merged = node("Transpose", {node("MatMul", {weights, v})},
                                    {OnnxAttribute::integers("perm", {0, 2, 1, 3})});
    return linear(node("Reshape", {merged, ints({0, 0, config_.d_model})}), prefix + ".out_proj");
  }
  std::string query(const std::string& x, const std::string& prefix, int64_t heads) {
    const double scaling = 1.0 / std::sqrt(static_cast<double>(config_.d_model / heads));
    return split_heads(node("Mul", {linear(x, prefix + ".q_proj"), real(scaling)}), heads);
  }
  std::pair<std::string, std::string> key_value(const std::string& x, const std::string& prefix, int64_t heads) {
    return {split_heads(linear(x, prefix + ".k_proj", /*bias=*/false), heads),
            split_heads(linear(x, prefix + ".v_proj"), heads)};
  }
  std::string feed_forward(const std::string& x, const std::string& prefix) {
    const std::string h = layer_norm(x, prefix + ".final_layer_norm");
    return node("Add", {x, linear(gelu(linear(h, prefix + ".fc1")), prefix + ".fc2")});
  }

  void input(const std::string& name, std::vector<OnnxDim> dims, bool is_int64 = false) {
    graph_.inputs.push_back({name, std::move(dims), is_int64});
  }
  void output(const std::string& value, const std::string& name, std::vector<OnnxDim> dims) {
    node("Identity", {value}, {}, name);
    graph_.outputs.push_back({name, std::move(dims), false});
  }
  OnnxGraph take() { return std::move(graph_); }

 private:
  std::string fresh(const std::string& stem) { return stem + std::to_string(counter_++); }

  WhisperConfig config_;
  std::map<std::string, torch::Tensor> params_;
  std::set<std::string> used_;
  OnnxGraph graph_;
  int64_t counter_ = 0;
};

const OnnxDim kBatch{-1, "batch"};

OnnxDim fixed(int64_t n) { return {n, ""}; }

std::string layer(int64_t i, const char* stem) { return std::string(stem) + "." + std::to_string(i); }

std::vector<OnnxDim> cross_dims(const WhisperConfig& c) {
  const int64_t h = c.decoder_attention_heads;
  return {kBatch, fixed(h), fixed(c.max_source_positions), fixed(c.d_model / h)};
}

}  // namespace

OnnxGraph whisper_encoder_to_onnx(models::asr::Whisper& model) {
  GraphBuilder b(model, "whisper_encoder");
  const WhisperConfig& c = b.config();
  b.input("input_features", {kBatch, fixed(c.num_mel_bins), fixed(c.input_frames())});
  auto conv = [&](const std::string& x, const char* name, int64_t stride) {
    const std::string p = std::string("model.encoder.") + name;
    return b.gelu(b.node("Conv", {x, b.weight(p + ".weight"), b.weight(p + ".bias")},
                         {OnnxAttribute::integers("kernel_shape", {3}), OnnxAttribute::integers("pads", {1, 1}),
                          OnnxAttribute::integers("strides", {stride})}));
  };
  std::string x = conv(conv("input_features", "conv1", 1), "conv2", 2);
  x = b.node("Transpose", {x}, {OnnxAttribute::integers("perm", {0, 2, 1})});
  x = b.node("Add", {x, b.weight("model.encoder.embed_positions.weight")});
  const int64_t heads = c.encoder_attention_heads;
  for (int64_t i = 0; i < c.encoder_layers; ++i) {
    const std::string p = "model.encoder.layers." + std::to_string(i);
    const std::string h = b.layer_norm(x, p + ".self_attn_layer_norm");
    const auto [k, v] = b.key_value(h, p + ".self_attn", heads);
    x = b.node("Add", {x, b.attend(b.query(h, p + ".self_attn", heads), k, v, "", p + ".self_attn")});
    x = b.feed_forward(x, p);
  }
  b.output(b.layer_norm(x, "model.encoder.layer_norm"), "encoder_hidden_states",
           {kBatch, fixed(c.max_source_positions), fixed(c.d_model)});
  return b.take();
}

OnnxGraph whisper_cross_kv_to_onnx(models::asr::Whisper& model) {
  GraphBuilder b(model, "whisper_cross_kv");
  const WhisperConfig& c = b.config();
  b.input("encoder_hidden_states", {kBatch, fixed(c.max_source_positions), fixed(c.d_model)});
  for (int64_t i = 0; i < c.decoder_layers; ++i) {
    const auto [k, v] = b.key_value("encoder_hidden_states",
                                    "model.decoder.layers." + std::to_string(i) + ".encoder_attn",
                                    c.decoder_attention_heads);
    b.output(k, layer(i, "cross_key"), cross_dims(c));
    b.output(v, layer(i, "cross_value"), cross_dims(c));
  }
  return b.take();
}

OnnxGraph whisper_decoder_step_to_onnx(models::asr::Whisper& model) {
  GraphBuilder b(model, "whisper_decoder_step");
  const WhisperConfig& c = b.config();
  const int64_t heads = c.decoder_attention_heads;
  const OnnxDim tokens{-1, "tokens"}, past{-1, "past"}, total{-1, "past_plus_tokens"};
  b.input("input_ids", {kBatch, tokens}, /*is_int64=*/true);
  for (int64_t i = 0; i < c.decoder_layers; ++i) {
    b.input(layer(i, "past_key"), {kBatch, fixed(heads), past, fixed(c.d_model / heads)});
    b.input(layer(i, "past_value"), {kBatch, fixed(heads), past, fixed(c.d_model / heads)});
  }
  for (int64_t i = 0; i < c.decoder_layers; ++i) {
    b.input(layer(i, "cross_key"), cross_dims(c));
    b.input(layer(i, "cross_value"), cross_dims(c));
  }
  // Positions past ... past + tokens - 1, from the inputs' shapes.
  auto scalar_dim = [&](const std::string& v, int64_t axis) {
    const std::string d = b.node("Shape", {v}, {OnnxAttribute::integer("start", axis),
                                                 OnnxAttribute::integer("end", axis + 1)});
    return b.node("Squeeze", {d, b.ints({0})});
  };
  const std::string p = scalar_dim("past_key.0", 2);
  const std::string end = b.node("Add", {p, scalar_dim("input_ids", 1)});
  const std::string one = b.ints({1}, true);
  const std::string positions = b.node("Range", {p, end, one});
  // Query i sees keys 0 ... past + i: 0 where allowed, -inf elsewhere, [tokens, past + tokens].
  const std::string keys = b.node("Range", {b.ints({0}, true), end, one});
  const std::string allowed = b.node("LessOrEqual", {keys, b.node("Unsqueeze", {positions, b.ints({1})})});
  const std::string causal =
      b.node("Where", {allowed, b.real(0.0), b.real(-std::numeric_limits<double>::infinity())});

  std::string x = b.node("Gather", {b.weight("model.decoder.embed_tokens.weight"), "input_ids"},
                         {OnnxAttribute::integer("axis", 0)});
  if (c.scale_embedding) x = b.node("Mul", {x, b.real(std::sqrt(static_cast<double>(c.d_model)))});
  x = b.node("Add", {x, b.node("Gather", {b.weight("model.decoder.embed_positions.weight"), positions},
                               {OnnxAttribute::integer("axis", 0)})});
  const std::vector<OnnxDim> present{kBatch, fixed(heads), total, fixed(c.d_model / heads)};
  for (int64_t i = 0; i < c.decoder_layers; ++i) {
    const std::string lp = "model.decoder.layers." + std::to_string(i);
    std::string h = b.layer_norm(x, lp + ".self_attn_layer_norm");
    const auto [k, v] = b.key_value(h, lp + ".self_attn", heads);
    const std::string all_k = b.node("Concat", {layer(i, "past_key"), k}, {OnnxAttribute::integer("axis", 2)});
    const std::string all_v = b.node("Concat", {layer(i, "past_value"), v}, {OnnxAttribute::integer("axis", 2)});
    b.output(all_k, layer(i, "present_key"), present);
    b.output(all_v, layer(i, "present_value"), present);
    x = b.node("Add", {x, b.attend(b.query(h, lp + ".self_attn", heads), all_k, all_v, causal, lp + ".self_attn")});
    h = b.layer_norm(x, lp + ".encoder_attn_layer_norm");
    x = b.node("Add", {x, b.attend(b.query(h, lp + ".encoder_attn", heads), layer(i, "cross_key"),
                                   layer(i, "cross_value"), "", lp + ".encoder_attn")});
    x = b.feed_forward(x, lp);
  }
  const std::string hidden = b.layer_norm(x, "model.decoder.layer_norm");
  const std::string et = b.node("Transpose", {b.weight("model.decoder.embed_tokens.weight")},
                                {OnnxAttribute::integers("perm", {1, 0})});
  b.output(b.node("MatMul", {hidden, et}), kOnnxLogits, {kBatch, tokens, fixed(c.vocab_size)});
  return b.take();
}

}  // namespace medtrain::exporter
