"""Independent reference for the ResNet parity tests: builds torchvision's model
with random weights and non-trivial BatchNorm statistics, runs it in eval mode
on a random batch, and saves weights, input and output as safetensors.

usage: torchvision_reference.py ARCH NUM_CLASSES IN_CHANNELS OUT_DIR
"""
import sys

import torch
import torchvision
from safetensors.torch import save_file


def randomize_batch_norm(model):
    """Non-trivial BatchNorm affine parameters and statistics (fresh ones are
    identities in eval mode and would hide a mis-loaded buffer)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(7)


def main(arch, num_classes, in_channels, out_dir):
    torch.manual_seed(1234)
    model = getattr(torchvision.models, arch)(weights=None, num_classes=num_classes)
    if in_channels != 3:
        model.conv1 = torch.nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
    randomize_batch_norm(model)
    model.eval()
    x = torch.randn(2, in_channels, 64, 80)
    with torch.no_grad():
        y = model(x)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, f"{out_dir}/weights.safetensors")
    save_file({"input": x, "output": y}, f"{out_dir}/io.safetensors")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
