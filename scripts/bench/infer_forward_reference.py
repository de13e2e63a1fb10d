"""The other two sides of scripts/bench/infer_forward_vs_ort.sh: forward-only
images/s of ONNX Runtime on the bundle's model.onnx and of PyTorch eager
(torchvision, or MONAI for the U-Nets; the bundle's model.safetensors loaded strictly) on the batch that
infer_forward_bench timed (its BENCH_INPUT), one repetition of ITERS forwards
each after a warm-up. Checks first that both give medtrain's logits (its
BENCH_LOGITS) within 1e-3 relative, so the three time the same computation.

    infer_forward_reference.py BUNDLE INPUT.npy LOGITS.npy THREADS ITERS
prints: ort=<images/s> eager=<images/s>
"""
import sys

import numpy as np
import torch
import torchvision
import yaml
from safetensors.torch import load_file

from forward_reference import check_and_time, ort_session


def reference_model(card):
    """torchvision's classifiers; MONAI's BasicUNet for the U-Nets."""
    arch, classes, channels = card["architecture"], card["num_classes"], card["in_channels"]
    if arch in ("unet2d", "unet3d"):
        from monai.networks.nets import BasicUNet
        return BasicUNet(spatial_dims=int(arch[4]), in_channels=channels, out_channels=classes)
    model = getattr(torchvision.models, arch)(weights=None, num_classes=classes)
    if channels != 3:
        if arch.startswith("resnet"):
            model.conv1 = torch.nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
        elif arch.startswith("densenet"):
            model.features.conv0 = torch.nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
        elif arch == "efficientnet_b0":
            model.features[0][0] = torch.nn.Conv2d(channels, 32, 3, 2, 1, bias=False)
        elif arch == "convnext_tiny":
            model.features[0][0] = torch.nn.Conv2d(channels, 96, 4, 4)
        else:
            sys.exit(f"infer_forward_reference.py: no torchvision twin for {arch}")
    return model


def main(bundle, input_path, logits_path, threads, iters):
    card = yaml.safe_load(open(f"{bundle}/model.yaml"))
    x = np.load(input_path)
    expected = np.load(logits_path)
    torch.set_num_threads(threads)
    net = reference_model(card)
    net.load_state_dict(load_file(f"{bundle}/model.safetensors"), strict=True)
    net.eval()
    xt = torch.from_numpy(x)
    session = ort_session(f"{bundle}/model.onnx", threads)

    def onnx():
        return session.run(["logits"], {"input": x})[0]

    def eager():
        with torch.no_grad():
            return net(xt)

    check_and_time("infer_forward_reference.py", onnx, eager, expected, len(x), iters)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
