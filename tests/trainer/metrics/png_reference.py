"""PIL, the independent PNG codec, on both sides of png_codec_test.cpp.

usage: png_reference.py <dir>

1. Decodes every *.png directly in <dir> (written there by medtrain's
   encode_png) with PIL.
2. Writes PNGs of its own with PIL into <dir>/pil/ (gray, RGB, RGBA, gray+alpha,
   palette, 16-bit gray, 1-bit, gray with a transparent colour) and, for each,
   the 8-bit pixels medtrain's decode_png must return (png_codec.h: 16-bit
   keeps its high byte, palettes and low bit depths are expanded, gray+alpha
   and transparency become RGBA).

Prints {"decoded": {name: {"mode", "width", "height", "pixels"}},
        "written": {name: {"width", "height", "channels", "pixels"}}}; pixels flat, row-major.
"""

import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

W, H = 7, 5


def pattern(channels, seed):
    rng = np.random.default_rng(seed)
    shape = (H, W) if channels == 1 else (H, W, channels)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def write_all(out):
    out.mkdir(exist_ok=True)
    written = {}

    def keep(name, image, expected, mode=None):
        assert mode is None or image.mode == mode, (name, image.mode)
        image.save(out / name)
        exp = np.asarray(expected, dtype=np.uint8)
        written[name] = {"width": W, "height": H, "channels": 1 if exp.ndim == 2 else exp.shape[2],
                         "pixels": exp.reshape(-1).tolist()}

    gray, rgb, rgba, la = pattern(1, 1), pattern(3, 2), pattern(4, 3), pattern(2, 4)
    keep("gray.png", Image.fromarray(gray), gray, "L")
    keep("rgb.png", Image.fromarray(rgb), rgb, "RGB")
    keep("rgba.png", Image.fromarray(rgba), rgba, "RGBA")
    keep("gray_alpha.png", Image.fromarray(la),
         np.stack([la[..., 0], la[..., 0], la[..., 0], la[..., 1]], axis=-1), "LA")

    palette = Image.fromarray(rgb).quantize(colors=16, dither=Image.Dither.NONE)
    keep("palette.png", palette, np.asarray(palette.convert("RGB")), "P")

    wide = np.random.default_rng(5).integers(0, 65536, (H, W)).astype(np.uint16)
    keep("gray16.png", Image.fromarray(wide), (wide >> 8).astype(np.uint8), "I;16")

    bits = np.random.default_rng(6).integers(0, 2, (H, W)).astype(bool)
    keep("bits.png", Image.fromarray(bits), np.where(bits, 255, 0), "1")

    img = Image.fromarray(gray)
    alpha = np.where(gray == gray[0, 0], 0, 255)
    img.save(out / "gray_trns.png", transparency=int(gray[0, 0]))
    exp = np.stack([gray, gray, gray, alpha], axis=-1).astype(np.uint8)
    written["gray_trns.png"] = {"width": W, "height": H, "channels": 4, "pixels": exp.reshape(-1).tolist()}
    return written


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[0])
    decoded = {}
    for path in sorted(folder.glob("*.png")):
        img = Image.open(path)
        img.load()
        decoded[path.name] = {"mode": img.mode, "width": img.width, "height": img.height,
                              "pixels": np.asarray(img).reshape(-1).tolist()}
    json.dump({"decoded": decoded, "written": write_all(folder / "pil")}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
