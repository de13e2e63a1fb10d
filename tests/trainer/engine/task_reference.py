"""Independent references for tests/trainer/engine/task_loss_test.cpp.

    task_reference.py DIR

reads DIR/logits.npy (float32) and DIR/targets.npy (float32; class indices
for segmentation), and prints one JSON line: MONAI's DiceCELoss(softmax=True,
to_onehot_y=True) and its DiceLoss part for segmentation logits [N, K, *sp];
torch's BCEWithLogits and a brute-force pairwise AUROC per label for
multilabel logits [N, L] (mode from DIR/mode.txt); and, for segmentation, the
Dice score per class of the argmax prediction counted over all pixels; for
token tagging logits [N, L, K] and tags [N, L] (-100: not scored), torch's
cross_entropy(ignore_index=-100) with the classes on dim 1, as PyTorch wants."""
import json
import sys
from pathlib import Path

import numpy as np
import torch


def pairwise_auroc(scores, truth):
    pos, neg = scores[truth > 0.5], scores[truth <= 0.5]
    if len(pos) == 0 or len(neg) == 0:
        return None
    wins = sum(float((p > neg).sum()) + 0.5 * float((p == neg).sum()) for p in pos)
    return wins / (len(pos) * len(neg))


def main():
    d = Path(sys.argv[1])
    mode = (d / "mode.txt").read_text().strip()
    logits = torch.from_numpy(np.load(d / "logits.npy")).double()
    targets = torch.from_numpy(np.load(d / "targets.npy")).double()
    out = {}
    if mode == "token_tagging":
        tags = targets.long()
        out["ce"] = float(torch.nn.functional.cross_entropy(logits.permute(0, 2, 1), tags, ignore_index=-100))
    elif mode == "segmentation":
        from monai.losses import DiceCELoss, DiceLoss
        y = targets.long().unsqueeze(1)
        out["dice_ce"] = float(DiceCELoss(softmax=True, to_onehot_y=True)(logits, y))
        out["dice"] = float(DiceLoss(softmax=True, to_onehot_y=True)(logits, y))
        pred = logits.argmax(1)
        per_class = []
        for c in range(logits.shape[1]):
            p, g = pred == c, targets.long() == c
            denom = int(p.sum()) + int(g.sum())
            per_class.append(2.0 * int((p & g).sum()) / denom if denom else None)
        out["dice_per_class"] = per_class
    else:
        out["bce"] = float(torch.nn.BCEWithLogitsLoss()(logits, targets))
        out["auroc"] = [pairwise_auroc(logits[:, l].numpy(), targets[:, l].numpy()) for l in range(logits.shape[1])]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
