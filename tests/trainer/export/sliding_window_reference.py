"""Independent reference for sliding_window_test.cpp: MONAI 1.6.1's
sliding_window_inference over a small fixed conv model (random weights,
zero-padded 3x3x3 conv, ReLU, 1x1x1 conv: border windows differ from the
interior, so placement and blending both show), for the cases below.

  <out>/weights.safetensors   w1 [4, 2, 3, 3, 3], b1, w2 [3, 4, 1, 1, 1], b2
  <out>/io.safetensors        input_<k>, output_<k> per case

The case list is mirrored in sliding_window_test.cpp (kCases).
usage: sliding_window_reference.py OUT_DIR
"""
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from monai.inferers import sliding_window_inference
from safetensors.torch import save_file

# input shape, roi, overlap, mode, sw_batch, cval
CASES = [
    ((1, 2, 20, 23, 17), (8, 10, 12), 0.25, "constant", 1, 0.0),
    ((1, 2, 20, 23, 17), (8, 10, 12), 0.5, "gaussian", 3, 0.0),
    ((2, 2, 6, 9, 30), (8, 10, 12), 0.25, "gaussian", 4, 0.5),   # padded in D and H
    ((1, 2, 16, 20, 24), (8, 10, 12), 0.0, "constant", 2, 0.0),  # windows tile exactly
    ((1, 2, 19, 13, 11), (5, 6, 7), 0.6, "gaussian", 5, 0.0),
]


def main(out):
    torch.manual_seed(16)
    w = {"w1": torch.randn(4, 2, 3, 3, 3) * 0.3, "b1": torch.randn(4) * 0.1,
         "w2": torch.randn(3, 4, 1, 1, 1) * 0.5, "b2": torch.randn(3) * 0.1}

    def model(x):
        return F.conv3d(torch.relu(F.conv3d(x, w["w1"], w["b1"], padding=1)), w["w2"], w["b2"])

    io = {}
    for k, (shape, roi, overlap, mode, batch, cval) in enumerate(CASES):
        x = torch.randn(*shape)
        with torch.no_grad():
            y = sliding_window_inference(x, roi, batch, model, overlap=overlap, mode=mode, sigma_scale=0.125,
                                         padding_mode="constant", cval=cval)
        io[f"input_{k}"] = x.contiguous()
        io[f"output_{k}"] = torch.as_tensor(y).contiguous()
    Path(out).mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in w.items()}, str(Path(out) / "weights.safetensors"))
    save_file(io, str(Path(out) / "io.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1])
