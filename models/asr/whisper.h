#pragma once
// Whisper (Hugging Face WhisperForConditionalGeneration: parameter names, math
// and defaults), built from a WhisperConfig; blocks in whisper_layers.h.
//
//   model.encoder: conv1 (k3, GELU), conv2 (k3, stride 2, GELU), + sinusoidal
//     embed_positions (a parameter in HF's files, frozen), pre-LN layers,
//     layer_norm. log-mel [B, num_mel_bins, 2 * max_source_positions]
//     -> hidden states [B, max_source_positions, d_model].
//   model.decoder: embed_tokens + learned embed_positions, pre-LN layers with
//     causal self-attention and cross-attention over the encoder output,
//     layer_norm; logits = hidden @ embed_tokens^T (HF's proj_out is tied to
//     the token embedding, so it is not a parameter of its own here and HF's
//     files do not hold it).
// Inputs are checked: a wrong shape, dtype or token id is a ModelError.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>

#include <vector>

#include "models/asr/whisper_config.h"
#include "models/asr/whisper_layers.h"

namespace medtrain::models::asr {

// HF's sinusoids(length, channels): [sin(t * f_i), cos(t * f_i)] with
// f_i = 10000^(-i / (channels/2 - 1)).
torch::Tensor whisper_sinusoids(int64_t length, int64_t channels);

class WhisperEncoderImpl : public FusedModule {
 public:
  explicit WhisperEncoderImpl(const WhisperConfig& c);
  torch::Tensor forward(const torch::Tensor& features);
  const torch::Tensor& positions() const { return embed_positions_->weight; }

 private:
  WhisperConfig config_;
  torch::nn::Conv1d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Embedding embed_positions_{nullptr};
  std::vector<WhisperEncoderLayer> layers_;
  torch::nn::LayerNorm layer_norm_{nullptr};
};
TORCH_MODULE(WhisperEncoder);

// The decoder's incremental state: one entry per layer. Empty = nothing
// decoded yet; length() tokens have been seen so far.
struct WhisperKvCache {
  std::vector<WhisperLayerCache> layers;
  int64_t length() const { return layers.empty() || !layers[0].self.defined() ? 0 : layers[0].self.k.size(2); }
};

class WhisperDecoderImpl : public FusedModule {
 public:
  explicit WhisperDecoderImpl(const WhisperConfig& c);
  // tokens [B, T] int64 (positions cache->length() ... + T - 1), encoder
  // [B, S, d_model] -> final hidden states [B, T, d_model]. With a cache, its
  // K/V grow by T and the cross K/V are computed on the first call only (the
  // encoder argument is then only checked).
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& encoder, WhisperKvCache* cache = nullptr);
  const torch::Tensor& token_embedding() const { return embed_tokens_->weight; }

 private:
  void check(const torch::Tensor& tokens, const torch::Tensor& encoder, int64_t past) const;
  WhisperConfig config_;
  torch::nn::Embedding embed_tokens_{nullptr}, embed_positions_{nullptr};
  std::vector<WhisperDecoderLayer> layers_;
  torch::nn::LayerNorm layer_norm_{nullptr};
};
TORCH_MODULE(WhisperDecoder);

// HF's WhisperModel: the "model." of the names.
class WhisperSeq2SeqImpl : public torch::nn::Module {
 public:
  explicit WhisperSeq2SeqImpl(const WhisperConfig& c);
  WhisperEncoder encoder{nullptr};
  WhisperDecoder decoder{nullptr};
};
TORCH_MODULE(WhisperSeq2Seq);

// HF's WhisperForConditionalGeneration.
class WhisperImpl : public torch::nn::Module {
 public:
  explicit WhisperImpl(const WhisperConfig& c);
  // log-mel [B, num_mel_bins, input_frames()] float -> [B, max_source_positions, d_model].
  torch::Tensor encode(const torch::Tensor& features);
  // tokens [B, T], encoder states -> logits [B, T, vocab_size] (see WhisperDecoderImpl::forward).
  torch::Tensor decode(const torch::Tensor& tokens, const torch::Tensor& encoder, WhisperKvCache* cache = nullptr);
  const WhisperConfig& config() const { return config_; }
  WhisperSeq2Seq& model() { return model_; }

 private:
  WhisperConfig config_;
  WhisperSeq2Seq model_{nullptr};
};
TORCH_MODULE(Whisper);

}  // namespace medtrain::models::asr
