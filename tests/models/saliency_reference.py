"""Independent reference for the saliency tests (tests/models/cv/saliency_test.cpp):
pip MONAI's GradCAM and OcclusionSensitivity (monai.visualize) on torchvision
models with random weights and non-trivial BatchNorm statistics (zoo_reference.build;
EfficientNet-B0 as torchvision initialises it, see gradcam_model), in eval mode. For each case it writes

  <out>/<group>/<arch>/weights.safetensors   the torchvision state dict
  <out>/<group>/<arch>/io.safetensors        the input and MONAI's maps

gradcam (resnet18, densenet121, efficientnet_b0; input [2, 3, 64, 96]):
  cam_argmax  MONAI GradCAM without a class index, one sample per call (with a
              batch MONAI back-propagates every sample's argmax logit through
              every sample), concatenated
  cam_class   MONAI GradCAM with class_idx=class on the whole batch; class: the
              first class other than sample 0's argmax whose maps are not
              constant (a map with nothing positive tests nothing)
  Both with MONAI's default_normalizer (max -> 0, min -> 1). ConvNeXt-Tiny is
  left out for time (28M parameters to write and read; its split is EfficientNet's:
  features, then pooling and the classifier).
occlusion (resnet18, 1 channel; input [1, 1, 48, 40]): OcclusionSensitivity's
  map [1, classes, 48, 40] for three settings (see OCCLUSION), with the
  activation given as softmax (MONAI's default picks sigmoid for 1-channel
  inputs, reading the number of input channels for the number of outputs), and
  for mean_patch MONAI's swap of add and mul undone (see fill_with_patch_mean).

usage: saliency_reference.py OUT_DIR GROUP...   (GROUP: gradcam | occlusion)
"""
import contextlib
import sys
import warnings
import zlib
from pathlib import Path
from unittest import mock

import torch
import torch.nn.functional as F
import torchvision
from monai.visualize import GradCAM, OcclusionSensitivity
from safetensors.torch import save_file
from zoo_reference import build  # same folder: on sys.path

GRADCAM = [("resnet18", "layer4"), ("densenet121", "relu"), ("efficientnet_b0", "features")]
# name: mask_size, overlap, mode, n_batch
OCCLUSION = {
    "gaussian": (16, 0.6, "gaussian", 16),
    "mean_img": (12, 0.5, "mean_img", 7),
    "mean_patch": (10, 0.0, "mean_patch", 5),
}


class DenseNetWithReLU(torch.nn.Module):
    """torchvision's DenseNet forward with its final ReLU as a module: torchvision
    applies it in place as a function, and MONAI's hooks on features.norm5 then fail
    ("Output 0 of BackwardHookFunctionBackward is a view and is being modified
    inplace"). Same function; the target "relu" is MONAI DenseNet121's class_layers.relu."""

    def __init__(self, model):
        super().__init__()
        self.features = model.features
        self.relu = torch.nn.ReLU()
        self.classifier = model.classifier

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.relu(self.features(x)), 1)
        return self.classifier(torch.flatten(x, 1))


def gradcam_model(arch):
    """zoo_reference.build's model, but EfficientNet-B0 with torchvision's own init:
    with random BatchNorm statistics its last features hardly depend on the input,
    the maps vary by ~1 % over the image, and scaling them to [0, 1] makes float
    noise of 1e-6 (1 vs 2 threads) into 5e-5. Fresh, its maps span their range."""
    if arch == "efficientnet_b0":
        return torchvision.models.efficientnet_b0(weights=None, num_classes=4).eval()
    return build(arch, 4, 3)


def save_case(d, model, tensors):
    d.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(d / "weights.safetensors"))
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(d / "io.safetensors"))


def gradcam(out):
    for arch, layer in GRADCAM:
        torch.manual_seed(zlib.crc32(arch.encode()))
        model = gradcam_model(arch)
        net = DenseNetWithReLU(model).eval() if arch.startswith("densenet") else model
        x = torch.randn(2, 3, 64, 96)
        cam = GradCAM(nn_module=net, target_layers=layer)
        per_sample = [cam(x=x[i:i + 1]) for i in range(x.shape[0])]
        with torch.no_grad():
            argmax = int(net(x[:1]).argmax(1))
        for k in [c for c in range(4) if c != argmax]:
            cam_class = cam(x=x, class_idx=k)
            if all(float(m.max() - m.min()) > 0.5 for m in cam_class):
                break
        save_case(out / "gradcam" / arch, model, {
            "input": x,
            "cam_argmax": torch.cat(per_sample),
            "cam_class": cam_class,
            "class": torch.tensor([k]),
        })


def fill_with_patch_mean(x, val, mask_size):
    """constant_occlusion as OcclusionSensitivity.predictor's mean_patch branch
    unpacks it (`add, mul = ...`): MONAI 1.6.1 returns (mul, add), so its
    mean_patch multiplies the patch by its mean instead of filling it with it."""
    return torch.ones((*x.shape[:2], *mask_size), device=x.device, dtype=x.dtype) * val, 0


def occlusion(out):
    torch.manual_seed(zlib.crc32(b"occlusion"))
    model = build("resnet18", 3, 1)
    x = torch.randn(1, 1, 48, 40)
    maps = {"input": x}
    for name, (mask, overlap, mode, n_batch) in OCCLUSION.items():
        occ = OcclusionSensitivity(nn_module=model, mask_size=mask, overlap=overlap, mode=mode, n_batch=n_batch,
                                   verbose=False, activate=lambda o: o.softmax(1))
        # in mean_patch mode only the predictor's mean_patch branch calls constant_occlusion
        fix = mock.patch.object(OcclusionSensitivity, "constant_occlusion", staticmethod(fill_with_patch_mean))
        with torch.no_grad(), fix if mode == "mean_patch" else contextlib.nullcontext():
            maps[name] = occ(x)[0]
    save_case(out / "occlusion" / "resnet18", model, maps)


def main(out, groups):
    out = Path(out)
    # MONAI's own deprecation and hook notices: not ours to act on
    warnings.filterwarnings("ignore", category=UserWarning)
    torch.set_num_threads(2)
    for group in groups:
        {"gradcam": gradcam, "occlusion": occlusion}[group](out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
