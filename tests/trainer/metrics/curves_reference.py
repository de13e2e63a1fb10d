"""Independent reference for tests/trainer/metrics/curves_parity_test.cpp.

    curves_reference.py OUT_DIR

Writes OUT_DIR/cases.json with three lists (fixed seed):
  "pr":  {"scores", "labels", "num_thresholds", "tensor" [6][n]}: the tensor
         TensorBoard's own pr_curve.summary.pb stores. pb imports TensorFlow
         only for its proto classes and make_tensor_proto; TensorFlow is not
         installed, so a stand-in module hands it tensorboard's copies of the
         same protos (tensorboard.compat.proto) and tensorboard.util.tensor_util.
         The counting and bucketing run as the plugin wrote them.
  "roc": {"scores", "labels", "drop_intermediate", "fpr", "tpr", "thresholds",
         "auc"}: sklearn.metrics.roc_curve (+inf and NaN written as null) and
         roc_auc_score (null when only one class occurs).
  "confusion": {"truth", "predicted", "num_classes", "counts"}:
         sklearn.metrics.confusion_matrix(labels=range(num_classes)).
Scores are float32 values written exactly (a float32 widened to a double)."""
import json
import math
import os
import sys
import types
import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.pr_curve import summary as pr_summary
from tensorboard.util import tensor_util


def install_tensorflow_stand_in():
    v1 = types.ModuleType("tensorflow.compat.v1")
    v1.SummaryMetadata = summary_pb2.SummaryMetadata
    v1.Summary = summary_pb2.Summary
    v1.float32 = np.float32
    v1.make_tensor_proto = lambda values, dtype=None: tensor_util.make_tensor_proto(values, dtype=dtype)
    compat = types.ModuleType("tensorflow.compat")
    compat.v1 = v1
    tf = types.ModuleType("tensorflow")
    tf.compat = compat
    sys.modules.update({"tensorflow": tf, "tensorflow.compat": compat, "tensorflow.compat.v1": v1})


def plugin_tensor(scores, labels, num_thresholds):
    summary = pr_summary.pb("t", labels=labels, predictions=scores, num_thresholds=num_thresholds)
    value = summary.value[0]
    assert value.tag == "t/pr_curves"
    return tensor_util.make_ndarray(value.tensor)


def nullable(values):
    return [None if not math.isfinite(v) else float(v) for v in values]


def pr_cases(rng):
    out = []
    for n in (2, 3, 11, 201, 1000):
        for size in (1, 7, 200):
            scores = rng.random(size, dtype=np.float32)
            labels = rng.random(size) < 0.4
            out.append((scores, labels, n))
    # Ties at the bucket edges: k / (n - 1) in float32, where float32
    # rounding decides the bucket; and 0 and 1 exactly.
    for n in (11, 201):
        k = rng.integers(0, n, 300)
        scores = (k / (n - 1)).astype(np.float32)
        scores[:4] = [0.0, 1.0, 1.0, 0.0]
        out.append((scores, rng.random(300) < 0.5, n))
    # Scores outside [0, 1] fall outside the plugin's histogram.
    out.append((np.array([-0.25, 0.5, 1.5, 0.75, 1.0, -0.0], np.float32), np.array([1, 0, 1, 1, 0, 0], bool), 201))
    out.append((np.zeros(0, np.float32), np.zeros(0, bool), 201))
    return [{"scores": [float(s) for s in sc], "labels": [bool(b) for b in lb], "num_thresholds": n,
             "tensor": plugin_tensor(sc, lb, n).astype(np.float64).tolist()} for sc, lb, n in out]


def roc_cases(rng):
    inputs = []
    for size in (2, 9, 150):
        inputs.append((rng.random(size, dtype=np.float32), rng.random(size) < 0.5))
    ties = np.round(rng.random(120) * 10).astype(np.float32) / 10  # many equal scores
    inputs.append((ties, rng.random(120) < 0.3))
    inputs.append((np.array([0.1, 0.4, 0.35, 0.8], np.float32), np.array([0, 0, 1, 1], bool)))  # sklearn's example
    inputs.append((rng.random(20, dtype=np.float32), np.zeros(20, bool)))  # no positives
    inputs.append((rng.random(20, dtype=np.float32), np.ones(20, bool)))  # no negatives
    out = []
    for scores, labels in inputs:
        if 0 < labels.sum() < len(labels):
            auc = float(roc_auc_score(labels, scores))
        else:
            auc = None
        for drop in (True, False):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UndefinedMetricWarning)
                fpr, tpr, thr = roc_curve(labels, scores, drop_intermediate=drop)
            out.append({"scores": [float(s) for s in scores], "labels": [bool(b) for b in labels],
                        "drop_intermediate": drop, "fpr": nullable(fpr), "tpr": nullable(tpr),
                        "thresholds": nullable(thr), "auc": auc})
    return out


def confusion_cases(rng):
    out = []
    for k, size in ((2, 50), (3, 200), (7, 40), (5, 3), (1, 5)):
        truth = rng.integers(0, k, size)
        predicted = np.where(rng.random(size) < 0.6, truth, rng.integers(0, k, size))
        if k == 7:
            truth[truth == 3] = 2  # a class that never occurs in the truth
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # k == 1: "a single label was found"
            counts = confusion_matrix(truth, predicted, labels=list(range(k)))
        out.append({"truth": truth.tolist(), "predicted": predicted.tolist(), "num_classes": k,
                    "counts": counts.tolist()})
    return out


def main(out_dir):
    install_tensorflow_stand_in()
    rng = np.random.default_rng(23)
    cases = {"pr": pr_cases(rng), "roc": roc_cases(rng), "confusion": confusion_cases(rng)}
    with open(os.path.join(out_dir, "cases.json"), "w") as f:
        json.dump(cases, f)


if __name__ == "__main__":
    main(sys.argv[1])
