"""Shared by the forward-only references of scripts/bench/ (infer_forward_reference.py,
text_infer_reference.py): an ONNX Runtime CPU session with a fixed thread count, and
the check-then-time of both references, so that what is timed is known to compute
medtrain's logits."""
import sys
import time

import numpy as np
import onnxruntime as ort


def ort_session(onnx_path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])


def check(who, name, actual, expected):
    """Exits naming `who` unless `actual` is medtrain's `expected` within 1e-3 relative."""
    scale = np.maximum(np.abs(expected), 1.0)
    err = float(np.max(np.abs(actual - expected) / scale)) if actual.shape == expected.shape else float("inf")
    if err > 1e-3:
        sys.exit(f"{who}: {name} logits {actual.shape} differ from medtrain's {expected.shape} by {err:.3g} relative")


def timed(forward, iters):
    forward()  # warm-up
    start = time.perf_counter()
    for _ in range(iters):
        forward()
    return time.perf_counter() - start


def check_and_time(who, onnx, eager, expected, batch, iters):
    """Checks both forwards against `expected`, then prints ort=<items/s> eager=<items/s>."""
    check(who, "onnxruntime", onnx(), expected)
    check(who, "pytorch eager", eager().numpy(), expected)
    n = batch * iters
    print(f"ort={n / timed(onnx, iters):.2f} eager={n / timed(eager, iters):.2f}")
