"""Independent references for tests/trainer/metrics/{entity,text_f1}_metrics_test.cpp.

    text_metrics_reference.py IN.json

IN.json holds lists of cases under "sequences" ({"gold": [[tag, ...], ...],
"pred": [...]}, one list per sentence), "multiclass" ({"logits": [[...]],
"targets": [...]}) and "multilabel" ({"logits": [[...]], "targets": [[...]]}).
Prints one JSON object with the same keys, one result per case, computed by
seqeval 1.2.2 (default mode, zero_division=0) and sklearn.metrics.f1_score
(zero_division=0). NaN is written as null (JSON has no NaN)."""
import json
import math
import sys
import warnings

import numpy as np
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities
from sklearn.metrics import f1_score as sk_f1_score


def plain(x):
    """numpy scalars and NaN to JSON-able values."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [plain(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(float(x)) else float(x)
    return x


def sequence_case(case):
    gold, pred = case["gold"], case["pred"]
    # get_entities of each sentence on its own (end inclusive, as seqeval gives it).
    ents = lambda sents: [[list(e) for e in get_entities(s)] for s in sents]
    return {
        "gold_entities": ents(gold),
        "pred_entities": ents(pred),
        "report": classification_report(gold, pred, output_dict=True, zero_division=0),
        "precision": precision_score(gold, pred, zero_division=0),
        "recall": recall_score(gold, pred, zero_division=0),
        "f1": f1_score(gold, pred, zero_division=0),
        "macro_f1": f1_score(gold, pred, average="macro", zero_division=0),
    }


def multiclass_case(case):
    logits = np.asarray(case["logits"], dtype=np.float64)
    pred = logits.argmax(axis=1)
    y = np.asarray(case["targets"], dtype=np.int64)
    return {"macro_f1": sk_f1_score(y, pred, average="macro", zero_division=0)}


def multilabel_case(case):
    logits = np.asarray(case["logits"], dtype=np.float64)
    pred = (logits > 0).astype(np.int64)
    y = (np.asarray(case["targets"], dtype=np.float64) > 0.5).astype(np.int64)
    return {
        "micro": sk_f1_score(y, pred, average="micro", zero_division=0),
        "macro": sk_f1_score(y, pred, average="macro", zero_division=0),
        "per_label": sk_f1_score(y, pred, average=None, zero_division=0),
    }


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "NE tag" and undefined-metric warnings
        out = {
            "sequences": [sequence_case(c) for c in cases.get("sequences", [])],
            "multiclass": [multiclass_case(c) for c in cases.get("multiclass", [])],
            "multilabel": [multilabel_case(c) for c in cases.get("multilabel", [])],
        }
    json.dump(plain(out), sys.stdout)


if __name__ == "__main__":
    main()
