"""Independent reference for the U-Net parity test (unet_parity_test.cpp):
MONAI's BasicUNet (2D and 3D) with random weights, including the
InstanceNorm affine parameters, run on a random input; writes

  <out>/<case>/weights.pth (torch.save) or weights.safetensors, io.safetensors

The 2D input is 40x40: not a multiple of 16, so MONAI's padding on the way up
is exercised too.

usage: unet_reference.py OUT_DIR
"""
import sys
from pathlib import Path

import torch
from monai.networks.nets import BasicUNet
from safetensors.torch import save_file

CASES = [
    ("unet2d", 2, 1, 3, (1, 1, 40, 40), "pth"),
    ("unet3d", 3, 2, 2, (1, 2, 32, 16, 16), "safetensors"),
]


def main(out):
    torch.set_num_threads(2)
    for name, dims, in_ch, classes, shape, fmt in CASES:
        torch.manual_seed(dims)
        model = BasicUNet(spatial_dims=dims, in_channels=in_ch, out_channels=classes)
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, (torch.nn.InstanceNorm2d, torch.nn.InstanceNorm3d)):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
        model.eval()
        x = torch.randn(*shape)
        with torch.no_grad():
            y = model(x)
        d = Path(out) / name
        d.mkdir(parents=True, exist_ok=True)
        if fmt == "pth":
            torch.save(model.state_dict(), d / "weights.pth")
        else:
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(d / "weights.safetensors"))
        save_file({"input": x, "output": y}, str(d / "io.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1])
