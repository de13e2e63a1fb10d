"""ONNX Runtime side of tests/trainer/export/onnx_ort_parity_test.cpp.

    ort_parity.py DIR TASK REL

DIR holds model.onnx and, for each case TAG, input_TAG.npy and logits_TAG.npy
(what LibTorch computed for that input). Checks the model with onnx's full
checker, runs it with ONNX Runtime (CPU), and compares:
  logits        with LibTorch's, |ort - torch| <= REL * max(|torch|, 1)
  probabilities with numpy's softmax over axis 1 (multiclass, segmentation)
                or sigmoid (multilabel) of LibTorch's logits
Prints one line per case; exits 1 naming the case, the output and the worst
element on a mismatch (the C++ test shows the output)."""
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort


def reference_probabilities(logits, task):
    if task == "multilabel":
        return 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def worst(actual, expected, rel):
    scale = np.maximum(np.abs(expected), 1.0)
    err = np.abs(actual.astype(np.float64) - expected) / scale
    i = np.unravel_index(np.argmax(err), err.shape)
    return float(err[i]), i, bool(np.all(err <= rel))


def main(d, task, rel):
    model = onnx.load(str(d / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    if batch.dim_param != "batch":
        print(f"input batch dimension is not symbolic: {batch}")
        return 1
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(d / "model.onnx"), options, providers=["CPUExecutionProvider"])
    cases = sorted(p.name[len("input_"):-len(".npy")] for p in d.glob("input_*.npy"))
    if not cases:
        print(f"no input_*.npy in {d}")
        return 1
    failed = False
    for tag in cases:
        x = np.load(d / f"input_{tag}.npy")
        expected = np.load(d / f"logits_{tag}.npy")
        logits, probs = session.run(["logits", "probabilities"], {"input": x})
        for name, actual, ref in (("logits", logits, expected),
                                  ("probabilities", probs, reference_probabilities(expected, task))):
            if actual.shape != ref.shape:
                print(f"{tag}: {name} shape {actual.shape}, expected {ref.shape}")
                failed = True
                continue
            err, where, ok = worst(actual, ref, rel)
            print(f"{tag}: {name} {actual.shape} max rel error {err:.3g} at {where}"
                  f" (ort {actual[where]:.7g}, reference {ref[where]:.7g}){'' if ok else ' MISMATCH'}")
            failed |= not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])))
