"""Independent reference for whisper_parity_test.cpp: Hugging Face
transformers' WhisperForConditionalGeneration with random weights.

usage: whisper_reference.py OUT_DIR

Writes
  OUT/tiny/          a random Whisper (d_model 64, 2 + 2 layers, 4 heads,
                     vocab 100, max_source_positions 16 -> 32 log-mel frames),
                     saved by save_pretrained (config.json,
                     generation_config.json, model.safetensors). Its weights
                     are drawn wider than HF's init so that greedy decoding
                     moves between tokens; its eos id is chosen as a token that
                     greedy decoding reaches after a few steps on some rows
                     (so both stopping at <|endoftext|> and at the length
                     limit are exercised), and its generation config
                     suppresses one token always and another at the first step.
  OUT/io.safetensors input_features [3, 80, 32], encoder_out, decoder_input_ids
                     [3, 6], logits [3, 6, 100], and generated [3, 2 + N]:
                     HF generate(do_sample=False) from the prompt
                     [decoder_start, no_timestamps], eos-padded.
  OUT/plain/         tiny without generation_config.json (no suppression) and
                     with the eos of the beam references
  OUT/beam.safetensors  HF beam search (GenerationMixin.generate, num_beams N,
                     length_penalty LP, early_stopping=True, no suppression:
                     HF suppresses after the log-softmax, CTranslate2 before)
                     from the same prompt, MAX_NEW new tokens:
                     beam{N}_{LP} [3, 2 + n] eos-padded (plain's eos),
                     beam{N}_{LP}_scores [3] (sum log-prob / length^LP,
                     <|endoftext|> counted), max_new_tokens [1]
  OUT/bad_layers/    config.json says 3 decoder layers and ffn 100; weights have 2 and 96
  OUT/bad_positions/ the encoder's embed_positions is not the sinusoid
  OUT/untied/        proj_out.weight stored, different from embed_tokens
"""
import copy
import json
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import WhisperConfig, WhisperForConditionalGeneration
from transformers.generation import GenerationMixin
from whisper_init import spread_weights

torch.manual_seed(0)
out = Path(sys.argv[1])
SOT, NO_TIMESTAMPS, MAX_NEW = 3, 4, 20
BEAMS = [(3, 1.0), (4, 0.0), (5, 0.5)]  # (num_beams, length_penalty)


def model():
    cfg = WhisperConfig(vocab_size=100, num_mel_bins=80, d_model=64, encoder_layers=2, decoder_layers=2,
                        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=128,
                        decoder_ffn_dim=96, max_source_positions=16, max_target_positions=32, bos_token_id=SOT,
                        eos_token_id=2, pad_token_id=2, decoder_start_token_id=SOT, suppress_tokens=[],
                        begin_suppress_tokens=[])
    m = WhisperForConditionalGeneration(cfg).eval()
    return spread_weights(m)


def generate(m, x):
    """HF's greedy generation from the forced prompt, eos-padded, prompt included.
    WhisperForConditionalGeneration.generate (short form) runs GenerationMixin's
    and post-processes (strips the prompt and a final eos column, may run on):
    checked to agree on the common length."""
    prompt = torch.tensor([[SOT, NO_TIMESTAMPS]] * x.shape[0])
    kw = dict(generation_config=m.generation_config, max_new_tokens=MAX_NEW, do_sample=False)
    with torch.no_grad():
        seq = GenerationMixin.generate(m, input_features=x, decoder_input_ids=prompt, **kw)
        whisper = m.generate(x, decoder_input_ids=prompt, **kw)
    if not torch.equal(whisper[:, :2], prompt):
        whisper = torch.cat([prompt, whisper], 1)
    n = min(seq.shape[1], whisper.shape[1])
    assert torch.equal(seq[:, :2], prompt) and torch.equal(whisper[:, :n], seq[:, :n]), (seq, whisper)
    return seq


def beam_search(m, x, cfg, beams, lp):
    prompt = torch.tensor([[SOT, NO_TIMESTAMPS]] * x.shape[0])
    with torch.no_grad():
        return GenerationMixin.generate(m, input_features=x, decoder_input_ids=prompt, generation_config=cfg,
                                        max_new_tokens=MAX_NEW, do_sample=False, num_beams=beams, length_penalty=lp,
                                        early_stopping=True, output_scores=True, return_dict_in_generate=True)


def beam_references(m, x):
    """HF's beam search without suppression, stopping at num_beams finished
    hypotheses (early_stopping=True: CTranslate2's rule), with an eos of its
    own (picked as for greedy) so that some hypotheses end under each length
    penalty. Returns the tensors and that eos."""
    cfg = copy.deepcopy(m.generation_config)
    cfg.suppress_tokens = []  # None would be filled in from the model's generation config
    cfg.begin_suppress_tokens = []
    eos = pick_eos(beam_search(m, x, cfg, *BEAMS[0]).sequences[:, 2:])
    cfg.eos_token_id = cfg.pad_token_id = eos
    out = {"max_new_tokens": torch.tensor([MAX_NEW])}  # the sequences are cut to the longest hypothesis
    for beams, lp in BEAMS:
        r = beam_search(m, x, cfg, beams, lp)
        out[f"beam{beams}_{lp}"] = r.sequences.contiguous()
        out[f"beam{beams}_{lp}_scores"] = r.sequences_scores.contiguous()
        print(f"beam {beams} lp {lp}:", r.sequences.tolist(), r.sequences_scores.tolist())
    return out, eos


def pick_eos(dry):
    """A token no row says in its first 3 steps, said by some rows and not all."""
    def first(row, t):
        hits = (row == t).nonzero()
        return int(hits[0]) if len(hits) else None
    for t in dry.flatten().tolist():
        firsts = [first(row, t) for row in dry]
        if t not in (SOT, NO_TIMESTAMPS) and None in firsts and all(f is None or f >= 3 for f in firsts):
            return t
    sys.exit("whisper_reference.py: no token to serve as eos (greedy output too uniform)")


def set_special(m, generation_only=False, **kw):
    for k, v in kw.items():
        if not generation_only:
            setattr(m.config, k, v)
        setattr(m.generation_config, k, v)


def main():
    m = model()
    x = torch.randn(3, 80, 32)
    set_special(m, no_timestamps_token_id=NO_TIMESTAMPS)
    free = generate(m, x)[:, 2:]
    # Suppress what row 0 says first (always), then what row 2 says first then (at the start only).
    # Only in generation_config.json (config.json keeps []), which the loader must read.
    set_special(m, generation_only=True, suppress_tokens=[int(free[0, 0])])
    set_special(m, generation_only=True, begin_suppress_tokens=[int(generate(m, x)[2, 2])])
    dry = generate(m, x)[:, 2:]
    eos = pick_eos(dry)
    set_special(m, eos_token_id=eos, pad_token_id=eos)
    generated = generate(m, x)
    tiny = out / "tiny"
    m.save_pretrained(tiny)
    tokens = torch.cat([torch.tensor([[SOT, NO_TIMESTAMPS]] * 3), dry[:, :4]], 1)
    with torch.no_grad():
        enc = m.model.encoder(x).last_hidden_state
        logits = m(input_features=x, decoder_input_ids=tokens).logits
    save_file({"input_features": x.contiguous(), "encoder_out": enc.contiguous(),
               "decoder_input_ids": tokens.contiguous(), "logits": logits.contiguous(),
               "generated": generated.contiguous()}, str(out / "io.safetensors"))
    beams, beam_eos = beam_references(m, x)
    save_file(beams, str(out / "beam.safetensors"))
    copy_with(tiny, "plain", config_edit={"eos_token_id": beam_eos, "pad_token_id": beam_eos})
    (out / "plain" / "generation_config.json").unlink()
    bad_cases(tiny)


def copy_with(tiny, name, config_edit=None, weights_edit=None):
    case = out / name
    shutil.copytree(tiny, case)
    if config_edit:
        cfg = json.loads((case / "config.json").read_text())
        cfg.update(config_edit)
        (case / "config.json").write_text(json.dumps(cfg))
    if weights_edit:
        w = load_file(str(case / "model.safetensors"))
        weights_edit(w)
        save_file(w, str(case / "model.safetensors"), metadata={"format": "pt"})


def bad_cases(tiny):
    copy_with(tiny, "bad_layers", config_edit={"decoder_layers": 3, "decoder_ffn_dim": 100})

    def shift(w):
        w["model.encoder.embed_positions.weight"] = w["model.encoder.embed_positions.weight"] + 0.05

    copy_with(tiny, "bad_positions", weights_edit=shift)

    def untie(w):
        w["proj_out.weight"] = w["model.decoder.embed_tokens.weight"] * 2

    copy_with(tiny, "untied", weights_edit=untie)


main()
