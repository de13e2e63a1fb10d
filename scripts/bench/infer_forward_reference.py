"""The other two sides of scripts/bench/infer_forward_vs_ort.sh: forward-only
images/s of ONNX Runtime on the bundle's model.onnx and of PyTorch eager
(torchvision, the bundle's model.safetensors loaded strictly) on the batch that
infer_forward_bench timed (its BENCH_INPUT), one repetition of ITERS forwards
each after a warm-up. Checks first that both give medtrain's logits (its
BENCH_LOGITS) within 1e-3 relative, so the three time the same computation.

    infer_forward_reference.py BUNDLE INPUT.npy LOGITS.npy THREADS ITERS
prints: ort=<images/s> eager=<images/s>
"""
import sys
import time

import numpy as np
import onnxruntime as ort
import torch
import torchvision
import yaml
from safetensors.torch import load_file


def torchvision_model(card):
    arch, classes, channels = card["architecture"], card["num_classes"], card["in_channels"]
    model = getattr(torchvision.models, arch)(weights=None, num_classes=classes)
    if channels != 3:
        if arch.startswith("resnet"):
            model.conv1 = torch.nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
        elif arch.startswith("densenet"):
            model.features.conv0 = torch.nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
        else:
            sys.exit(f"infer_forward_reference.py: no torchvision twin for {arch}")
    return model


def check(name, actual, expected):
    scale = np.maximum(np.abs(expected), 1.0)
    err = float(np.max(np.abs(actual - expected) / scale))
    if err > 1e-3:
        sys.exit(f"infer_forward_reference.py: {name} logits differ from medtrain's by {err:.3g} relative")


def timed(forward, iters):
    forward()  # warm-up
    start = time.perf_counter()
    for _ in range(iters):
        forward()
    return time.perf_counter() - start


def main(bundle, input_path, logits_path, threads, iters):
    card = yaml.safe_load(open(f"{bundle}/model.yaml"))
    x = np.load(input_path)
    expected = np.load(logits_path)
    torch.set_num_threads(threads)
    net = torchvision_model(card)
    net.load_state_dict(load_file(f"{bundle}/model.safetensors"), strict=True)
    net.eval()
    xt = torch.from_numpy(x)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(f"{bundle}/model.onnx", options, providers=["CPUExecutionProvider"])

    def onnx():
        return session.run(["logits"], {"input": x})[0]

    def eager():
        with torch.no_grad():
            return net(xt)

    check("onnxruntime", onnx(), expected)
    check("pytorch eager", eager().numpy(), expected)
    n = len(x) * iters
    print(f"ort={n / timed(onnx, iters):.2f} eager={n / timed(eager, iters):.2f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
