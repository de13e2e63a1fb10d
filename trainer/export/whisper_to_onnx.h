#pragma once
// A Whisper (models/asr/whisper.h) -> three ONNX graphs (opset 17) for
// encoder-decoder inference with a KV cache, so that a runtime never
// recomputes what it has seen (docs/export.md, "Whisper bundles"):
//
//   encoder.onnx       input_features float [batch, num_mel_bins, 2 * S]
//                      -> encoder_hidden_states [batch, S, d_model]     (S = max_source_positions)
//   cross_kv.onnx      encoder_hidden_states
//                      -> cross_key.N, cross_value.N [batch, heads, S, head_dim]  per decoder layer N
//   decoder_step.onnx  input_ids int64 [batch, tokens],
//                      past_key.N, past_value.N [batch, heads, past, head_dim] (past may be 0),
//                      cross_key.N, cross_value.N
//                      -> logits [batch, tokens, vocab_size],
//                         present_key.N, present_value.N [batch, heads, past + tokens, head_dim]
// batch, tokens and past are symbolic: the first step feeds the prompt with
// empty (past = 0) caches, each later step one token per row and the
// previous step's present_* as past_*. The tokens sit at positions
// past ... past + tokens - 1 (past + tokens <= max_target_positions) and
// attend causally, as WhisperDecoderImpl::forward with a WhisperKvCache.
//
// Note [Whisper graphs are built, not traced]: the image and BERT exports
// trace forward() and convert the aten graph (torch_to_onnx.h), which bakes
// every size the trace saw into the graph. A decoder step needs the token
// count, the cache length, the positions and the causal mask to follow its
// inputs, so these graphs are written out here from the model's weights with
// the same math as whisper_layers.cpp (pre-LN blocks, q scaled by
// head_dim^-0.5 before q k^T, bool causal mask as 0 / -inf, exact GELU,
// logits = hidden @ embed_tokens^T). Initializers keep the state dict's names
// and layouts (weights transposed by Transpose nodes that runtimes fold).
#include "models/asr/whisper.h"
#include "trainer/export/onnx/onnx_graph.h"

namespace medtrain::exporter {

constexpr const char* kWhisperEncoderOnnx = "encoder.onnx";
constexpr const char* kWhisperCrossKvOnnx = "cross_kv.onnx";
constexpr const char* kWhisperDecoderStepOnnx = "decoder_step.onnx";

// Each reads `model`'s parameters (moved to CPU float32 copies); the model is
// left unchanged. ModelError-free: sizes come from model->config().
OnnxGraph whisper_encoder_to_onnx(models::asr::Whisper& model);
OnnxGraph whisper_cross_kv_to_onnx(models::asr::Whisper& model);
OnnxGraph whisper_decoder_step_to_onnx(models::asr::Whisper& model);

}  // namespace medtrain::exporter
