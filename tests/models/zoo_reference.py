"""Independent reference for the pretrained-weights tests (pretrained_parity_test.cpp):
builds torchvision models with random weights and non-trivial BatchNorm
statistics, runs them in eval mode, and writes for each case

  <out>/<case>/weights.pth or weights.safetensors   the state dict, as users have it
  <out>/<case>/io.safetensors                        input and the reference output

Cases (name arch classes channels format variant):
  plain       the torchvision state dict unchanged
  grey        a 3-channel model; the input is a grey image, and the reference
              output is the 3-channel model on that image replicated to RGB,
              which is what a 1-channel model with summed stem weights must give
  wrapped     as grey, and the file as published/trained elsewhere: DenseNet
              legacy names ("norm.1") without num_batches_tracked (as
              torchvision's own densenet121 file), a "module." prefix, under
              "state_dict" next to other entries, in the legacy torch.save format
Plus a few bad files for the error tests (see bad_files()).

usage: zoo_reference.py OUT_DIR CASE...   (CASE: a name in CASES, or "bad")
"""
import collections
import re
import sys
import zlib
from pathlib import Path

import torch
import torchvision
from safetensors.torch import save_file
from torchvision_reference import randomize_batch_norm  # same folder: on sys.path

CASES = [
    ("resnet18_c1_pth", "resnet18", 3, 1, "pth", "plain"),
    ("resnet34_c3_st", "resnet34", 5, 3, "safetensors", "plain"),
    ("resnet50_c1_pth", "resnet50", 4, 1, "pth", "plain"),
    ("resnet101_c3_st", "resnet101", 2, 3, "safetensors", "plain"),
    ("densenet121_c1_pth", "densenet121", 3, 1, "pth", "plain"),
    ("densenet169_c3_st", "densenet169", 2, 3, "safetensors", "plain"),
    ("resnet18_grey_st", "resnet18", 2, 3, "safetensors", "grey"),
    ("densenet121_wrapped_pth", "densenet121", 2, 3, "pth", "wrapped"),
    ("efficientnet_b0_c1_pth", "efficientnet_b0", 3, 1, "pth", "plain"),
    ("convnext_tiny_c3_st", "convnext_tiny", 4, 3, "safetensors", "plain"),
    ("efficientnet_b0_grey_st", "efficientnet_b0", 2, 3, "safetensors", "grey"),
]

# The stem convolution of each architecture, rebuilt for other than 3 input channels.
STEMS = {
    "resnet": lambda m, c: setattr(m, "conv1", torch.nn.Conv2d(c, 64, 7, 2, 3, bias=False)),
    "densenet": lambda m, c: setattr(m.features, "conv0", torch.nn.Conv2d(c, 64, 7, 2, 3, bias=False)),
    "efficientnet": lambda m, c: m.features[0].__setitem__(0, torch.nn.Conv2d(c, 32, 3, 2, 1, bias=False)),
    "convnext": lambda m, c: m.features[0].__setitem__(0, torch.nn.Conv2d(c, 96, 4, 4)),
}


def randomize_layer_norm_and_scale(model):
    """ConvNeXt: fresh LayerNorms are identities and layer_scale (1e-6) all but
    switches every block off; random ones make each block and norm matter."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
            if hasattr(m, "layer_scale"):
                m.layer_scale.uniform_(0.1, 0.5)


def build(arch, classes, channels):
    model = getattr(torchvision.models, arch)(weights=None, num_classes=classes)
    if channels != 3:
        STEMS[re.match(r"[a-z]+", arch).group(0)](model, channels)
    randomize_batch_norm(model)
    if arch.startswith("convnext"):
        randomize_layer_norm_and_scale(model)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear):
                m.bias.uniform_(-0.1, 0.1)  # torchvision's DenseNet zeroes it: make it matter
    return model.eval()


def legacy_densenet_names(state):
    """The inverse of torchvision.models.densenet._load_state_dict's regex."""
    pattern = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))((?:[12])\.(?:weight|bias|running_mean|running_var))$")
    out = collections.OrderedDict()
    for key, value in state.items():
        m = pattern.match(key)
        out[f"{m.group(1)}.{m.group(2)}" if m else key] = value
    return out


def write_case(out, name, arch, classes, channels, fmt, variant):
    torch.manual_seed(zlib.crc32(name.encode()))
    model = build(arch, classes, channels)
    if variant == "plain":
        x = torch.randn(1, channels, 64, 64)
        with torch.no_grad():
            y = model(x)
    else:
        x = torch.randn(1, 1, 64, 64)
        with torch.no_grad():
            y = model(x.repeat(1, 3, 1, 1))
    state = model.state_dict()
    if variant == "wrapped":
        # torchvision's DenseNet files predate BatchNorm's num_batches_tracked
        state = legacy_densenet_names({k: v for k, v in state.items() if "num_batches_tracked" not in k})
        state = collections.OrderedDict(("module." + k, v) for k, v in state.items())
    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    if fmt == "pth" and variant == "wrapped":
        # as old published files: the legacy (pre-1.6) torch.save format
        torch.save({"state_dict": state, "epoch": 90, "arch": arch}, d / "weights.pth",
                   _use_new_zipfile_serialization=False)
    elif fmt == "pth":
        torch.save(state, d / "weights.pth")
    else:
        save_file({k: v.contiguous() for k, v in state.items()}, str(d / "weights.safetensors"))
    save_file({"input": x, "output": y}, str(d / "io.safetensors"))


class NotATensor:
    """Stands for arbitrary pickled objects: must never be constructed by the reader."""


def bad_files(out):
    d = out / "bad"
    d.mkdir(parents=True, exist_ok=True)
    small = torchvision.models.resnet18(num_classes=2).state_dict()
    torch.save(small, d / "legacy.pth", _use_new_zipfile_serialization=False)
    legacy = (d / "legacy.pth").read_bytes()
    (d / "legacy_truncated.pth").write_bytes(legacy[:-1000])
    torch.save({"conv1.weight": torch.ones(2, dtype=torch.complex64)}, d / "complex.pth")
    torch.save({"w": torch.ones(1), "obj": NotATensor(), "n": 3}, d / "objects.pth")
    full = (d / "objects.pth").read_bytes()
    (d / "truncated.pth").write_bytes(full[: len(full) // 2])
    half = collections.OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in small.items())
    torch.save(half, d / "resnet18_c2_half.pth")
    torch.save(small, d / "resnet18_c2.pth")


def main(out, names):
    out = Path(out)
    torch.set_num_threads(2)
    cases = {case[0]: case for case in CASES}
    for name in names:
        if name == "bad":
            bad_files(out)
        else:
            write_case(out, *cases[name])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
