"""PyTorch eager + transformers side of text_finetune_vs_transformers.sh.

The fine-tuning step of configs/report_labels.yaml written the usual Hugging Face
way: BertModel from the model folder, mean pooling over the attention mask,
dropout (config.json's hidden_dropout_prob), Linear(hidden, labels),
BCEWithLogits, AdamW (weight decay 0.01 except on bias / LayerNorm.weight), linear
warm-up schedule, global grad-norm clip. Texts are the manifest's train split in
a seeded shuffled order, tokenised per batch with the folder's tokenizer.json
(HF `tokenizers`, truncation to MAX_LENGTH, padding to the batch's longest; no
length bucketing). Batches are tokenised before timing, as medtrain's loader
threads do it off the step.

  python text_finetune_reference.py MODEL_DIR MANIFEST [--steps N --warmup W ...]

Prints one line: step_s=<median s/step> forward_s=... backward_s=...
optimizer_s=... mean_len=<mean padded length of the timed batches>.
"""
import argparse
import json
import random
import statistics
import time

import torch
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel


class Classifier(torch.nn.Module):
    def __init__(self, folder, num_labels, attn):
        super().__init__()
        config = BertConfig.from_pretrained(folder)
        self.encoder = BertModel.from_pretrained(folder, config=config, add_pooling_layer=False,
                                                 attn_implementation=attn)
        self.dropout = torch.nn.Dropout(config.hidden_dropout_prob)
        self.head = torch.nn.Linear(config.hidden_size, num_labels)

    def forward(self, ids, mask):
        hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return self.head(self.dropout(pooled))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model_dir")
    p.add_argument("manifest")
    p.add_argument("--labels", default="pneumothorax,effusion,consolidation,cardiomegaly,nodule")
    p.add_argument("--steps", type=int, default=30, help="timed steps")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--attn", default="sdpa",
                   help="transformers attn_implementation (sdpa, its default and medtrain's kind; or eager)")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    labels = a.labels.split(",")
    rows = [json.loads(line) for line in open(a.manifest)]
    rows = [r for r in rows if r.get("split") == "train"]
    random.Random(a.seed).shuffle(rows)
    n = a.warmup + a.steps
    while len(rows) < n * a.batch:
        rows = rows + rows

    tok = Tokenizer.from_file(f"{a.model_dir}/tokenizer.json")
    tok.enable_truncation(a.max_length)
    tok.enable_padding(pad_id=tok.token_to_id("[PAD]"), pad_token="[PAD]")  # to the batch's longest
    batches = []
    for i in range(n):
        chunk = rows[i * a.batch:(i + 1) * a.batch]
        enc = tok.encode_batch([r["text"] for r in chunk])
        ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long)
        y = torch.zeros(len(chunk), len(labels))
        for j, r in enumerate(chunk):
            for name in r.get("labels", []):
                y[j, labels.index(name)] = 1.0
        batches.append((ids, mask, y))

    model = Classifier(a.model_dir, len(labels), a.attn)
    model.train()
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [q for k, q in model.named_parameters() if not k.endswith(no_decay)], "weight_decay": 0.01},
        {"params": [q for k, q in model.named_parameters() if k.endswith(no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 10))
    loss_fn = torch.nn.BCEWithLogitsLoss()

    fwd, bwd, upd, lens = [], [], [], []
    for i, (ids, mask, y) in enumerate(batches):
        t0 = time.perf_counter()
        loss = loss_fn(model(ids, mask), y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        loss.item()
        t3 = time.perf_counter()
        if i >= a.warmup:
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
            upd.append(t3 - t2)
            lens.append(ids.shape[1])
    step = [f + b + u for f, b, u in zip(fwd, bwd, upd)]
    med = statistics.median
    print(f"step_s={med(step):.4f} forward_s={med(fwd):.4f} backward_s={med(bwd):.4f} "
          f"optimizer_s={med(upd):.4f} mean_len={statistics.mean(lens):.1f}")


if __name__ == "__main__":
    main()
