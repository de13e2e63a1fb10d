"""Images with PHI burned into their pixels, made here with Pillow + numpy + pydicom
(independent of medtrain), for tests/integration/deid_pixels_test.py and
scripts/bench/deid_pixels_vs_presidio.py.

Each image gets text drawn with DejaVu fonts over ultrasound-like speckle: the
planted PHI (the file's own patient name, ID, accession number, dates,
institution) and some non-PHI labels. `ink` is the mask of the PHI glyph pixels,
so a test can check every one of them is black after `medtrain deid` without
trusting any OCR."""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit, RLELossless, generate_uid

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"sans": "DejaVuSans.ttf", "mono": "DejaVuSansMono.ttf", "serif-bold": "DejaVuSerif-Bold.ttf",
         "sans-bold": "DejaVuSans-Bold.ttf"}

PATIENT_NAME = "KOWALCZYK^MARGARETHE"
PATIENT_ID = "48213977"
ACCESSION = "ACC5531904"
STUDY_DATE = "20240314"
BIRTH_DATE = "19570802"
INSTITUTION = "Fairview Clinic"
SC_CLASS = "1.2.840.10008.5.1.4.1.1.7"
US_CLASS = "1.2.840.10008.5.1.4.1.1.6.1"
US_MULTI_CLASS = "1.2.840.10008.5.1.4.1.1.3.1"
CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"


def font(name, size):
    return ImageFont.truetype(str(FONT_DIR / FONTS[name]), size)


def new_uid():
    return generate_uid(prefix="1.2.826.0.1.3680043.10.543.")


@dataclass
class Text:
    text: str
    xy: tuple
    font: str = "sans"
    size: int = 16
    phi: bool = True


@dataclass
class Planted:
    """What was drawn: the strings and the masks of PHI ink and of other text's ink
    (rows x cols, bool)."""
    phi: list = field(default_factory=list)
    other: list = field(default_factory=list)
    ink: np.ndarray = None
    other_ink: np.ndarray = None


def speckle(rows, cols, rng, top=0.25, bottom=0.2):
    """Rayleigh speckle in a fan-free middle band (the image area), dark text bands above and below."""
    img = np.zeros((rows, cols), np.float64)
    lo, hi = int(rows * top), int(rows * (1 - bottom))
    img[lo:hi] = np.clip(rng.rayleigh(40.0, (hi - lo, cols)), 0, 200)
    return img


def draw_texts(shape, texts):
    """(value mask 0..255 of all text, PHI ink mask) for `texts` on a rows x cols canvas."""
    rows, cols = shape
    canvas = Image.new("L", (cols, rows), 0)
    phi_canvas = Image.new("L", (cols, rows), 0)
    for t in texts:
        f = font(t.font, t.size)
        ImageDraw.Draw(canvas).text(t.xy, t.text, fill=255, font=f)
        if t.phi:
            ImageDraw.Draw(phi_canvas).text(t.xy, t.text, fill=255, font=f)
    return np.asarray(canvas, np.float64) / 255.0, np.asarray(phi_canvas) > 64


def header_texts(size=16, fonts=("sans", "mono", "serif-bold")):
    """The demographics line set of an ultrasound-like header, plus non-PHI labels."""
    a, b, c = fonts
    return [
        Text("KOWALCZYK, MARGARETHE", (6, 4), a, size),
        Text(f"ID: {PATIENT_ID}", (6, 4 + size + 4), b, size),
        Text("03/14/2024", (250, 4), c, size),
        Text(INSTITUTION, (250, 4 + size + 4), a, size - 2),
        Text("LIVER", (6, 200), a, size, phi=False),
        Text("C5-1  12cm", (250, 200), b, size - 2, phi=False),
    ]


def base_dataset(*, modality, sop_class, rows, cols, burned_in=None, manufacturer=None):
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = new_uid()
    ds.StudyInstanceUID = new_uid()
    ds.SeriesInstanceUID = new_uid()
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = BIRTH_DATE
    ds.AccessionNumber = ACCESSION
    ds.StudyDate = STUDY_DATE
    ds.StudyTime = "101500"
    ds.InstitutionName = INSTITUTION
    ds.Modality = modality
    if manufacturer:
        ds.Manufacturer = manufacturer
    if burned_in is not None:
        ds.BurnedInAnnotation = burned_in
    ds.Rows, ds.Columns = rows, cols
    return ds


def finish(ds, path, syntax=ExplicitVRLittleEndian):
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = syntax
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return ds


def rgb_us(path, *, seed=1, rows=240, cols=400, jpeg=False, texts=None):
    """Colour ultrasound, no Burned In Annotation attribute (the issue's case).
    jpeg: JPEG baseline, YBR_FULL_422 (Pillow's encoder, 4:2:2)."""
    rng = np.random.default_rng(seed)
    texts = header_texts() if texts is None else texts
    grey = speckle(rows, cols, rng)
    mask, ink = draw_texts((rows, cols), texts)
    rgb = np.stack([grey, grey * 0.9, grey * 0.8], -1)
    rgb = np.where(mask[..., None] > 0, mask[..., None] * np.array([255.0, 255.0, 200.0]) +
                   (1 - mask[..., None]) * rgb, rgb)
    pixels = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    ds = base_dataset(modality="US", sop_class=US_CLASS, rows=rows, cols=cols)
    ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 3, 8, 8, 7, 0
    ds.PlanarConfiguration = 0
    if jpeg:
        import io
        buf = io.BytesIO()
        Image.fromarray(pixels, "RGB").save(buf, "JPEG", quality=95, subsampling=1)  # 4:2:2
        ds.PhotometricInterpretation = "YBR_FULL_422"
        ds.LossyImageCompression = "01"
        ds.PixelData = encapsulate([buf.getvalue()])
        ds["PixelData"].VR = "OB"
        finish(ds, path, JPEGBaseline8Bit)
    else:
        ds.PhotometricInterpretation = "RGB"
        ds.PixelData = pixels.tobytes()
        finish(ds, path)
    return ds, Planted([t.text for t in texts if t.phi], [t.text for t in texts if not t.phi], ink,
                       (mask > 0.25) & ~ink)


def ct_sc16(path, *, seed=2, rows=256, cols=256):
    """16-bit signed CT-like secondary capture with a window; text burned at 3000 HU
    (white in the window)."""
    rng = np.random.default_rng(seed)
    texts = [Text("KOWALCZYK^MARGARETHE", (4, 4), "mono", 14),
             Text("DOB 08/02/1957", (4, 20), "sans", 14),
             Text(ACCESSION, (150, 234), "sans-bold", 14),
             Text("W:400 L:40", (190, 20), "sans", 12, phi=False)]
    hu = rng.normal(40, 30, (rows, cols))
    yy, xx = np.mgrid[:rows, :cols]
    hu[(yy - 132) ** 2 + (xx - 128) ** 2 > 90 ** 2] = -1000
    mask, ink = draw_texts((rows, cols), texts)
    hu = np.where(mask > 0.5, 3000, hu)
    stored = np.rint(hu + 1024).astype(np.int16)  # slope 1, intercept -1024
    ds = base_dataset(modality="CT", sop_class=SC_CLASS, rows=rows, cols=cols)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = stored.tobytes()
    finish(ds, path)
    return ds, Planted([t.text for t in texts if t.phi], [t.text for t in texts if not t.phi], ink,
                       (mask > 0.25) & ~ink)


def grey8_bright_rle(path, *, seed=3, rows=200, cols=300):
    """8-bit fluoroscopy-like image, dark text on bright header and footer bands, RLE encoded."""
    rng = np.random.default_rng(seed)
    texts = [Text("Name: KOWALCZYK", (6, 6), "serif-bold", 15),
             Text("14-Mar-2024", (190, 6), "sans", 15),
             Text(f"MRN {PATIENT_ID}", (6, 175), "mono", 14)]
    img = speckle(rows, cols, rng, top=0.2, bottom=0.15)
    img[: int(rows * 0.14)] = 235  # bright bands
    img[-int(rows * 0.14):] = 235
    mask, ink = draw_texts((rows, cols), texts)
    img = mask * 10 + (1 - mask) * img
    pixels = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    ds = base_dataset(modality="RF", sop_class="1.2.840.10008.5.1.4.1.1.12.2", rows=rows, cols=cols)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = pixels.tobytes()
    ds.compress(RLELossless, pixels)
    finish(ds, path, RLELossless)
    return ds, Planted([t.text for t in texts if t.phi], [], ink)


def write_cine(frames, path):
    """An 8-bit MONOCHROME2 multi-frame ultrasound object of `frames` [F, rows, cols] at `path`."""
    count, rows, cols = frames.shape
    ds = base_dataset(modality="US", sop_class=US_MULTI_CLASS, rows=rows, cols=cols)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = count
    ds.PixelData = frames.tobytes()
    finish(ds, path)
    return ds


def cine(path, *, seed=4, frames=12, rows=200, cols=320):
    """8-bit multi-frame ultrasound: the header shows the name in every frame and,
    from frame 7 on, the accession number too (a band change OCR must notice)."""
    rng = np.random.default_rng(seed)
    first = [Text("KOWALCZYK MARGARETHE", (6, 6), "sans", 15)]
    later = first + [Text(f"Acc {ACCESSION}", (6, 26), "mono", 14)]
    mask_a, ink_a = draw_texts((rows, cols), first)
    mask_b, ink_b = draw_texts((rows, cols), later)
    out = np.empty((frames, rows, cols), np.uint8)
    for f in range(frames):
        img = speckle(rows, cols, rng)
        m = mask_a if f < 7 else mask_b
        out[f] = np.clip(np.rint(m * 255 + (1 - m) * img), 0, 255).astype(np.uint8)
    ds = write_cine(out, path)
    return ds, Planted([t.text for t in later], [], ink_a | ink_b)


def rule_device(path, *, seed=5, rows=128, cols=160):
    """The configs/deid/pixel_regions.yaml test rule's device: a tiny 7 px footer OCR
    cannot read, blanked by the rule's fixed box (rows 100-127)."""
    rng = np.random.default_rng(seed)
    texts = [Text("KOWALCZYK 2024", (2, 112), "sans", 7)]
    img = speckle(rows, cols, rng, top=0.1, bottom=0.25)
    mask, ink = draw_texts((rows, cols), texts)
    pixels = np.clip(np.rint(mask * 255 + (1 - mask) * img), 0, 255).astype(np.uint8)
    ds = base_dataset(modality="OT", sop_class=SC_CLASS, rows=rows, cols=cols, manufacturer="MEDTRAIN TEST DEVICE")
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = pixels.tobytes()
    finish(ds, path)
    return ds, Planted([t.text for t in texts], [], ink)


def ct_not_at_risk(path, *, seed=6, rows=64, cols=64):
    """A CT image (no attribute): not at risk, must pass through byte-identical pixels."""
    rng = np.random.default_rng(seed)
    ds = base_dataset(modality="CT", sop_class=CT_CLASS, rows=rows, cols=cols)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = rng.integers(0, 4096, (rows, cols), dtype=np.uint16).tobytes()
    finish(ds, path)
    return ds, Planted()


def display8(ds):
    """What a viewer shows (8-bit grey per frame, frames first), from pydicom's decode."""
    arr = ds.pixel_array.astype(np.float64)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if ds.SamplesPerPixel == 3:
        arr = arr @ np.array([0.299, 0.587, 0.114])
    elif "WindowCenter" in ds:
        slope, icpt = float(getattr(ds, "RescaleSlope", 1)), float(getattr(ds, "RescaleIntercept", 0))
        c, w = float(ds.WindowCenter), float(ds.WindowWidth)
        arr = np.clip((arr * slope + icpt - (c - 0.5 - (w - 1) / 2)) / (w - 1) * 255, 0, 255)
    else:
        lo, hi = arr.min(), arr.max()
        arr = (arr - lo) / max(hi - lo, 1) * 255
    arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    return arr.reshape(frames, ds.Rows, ds.Columns)


def ink_bands(ink, pad=8):
    """(y0, y1) row ranges holding the ink, padded: where the reference OCR looks."""
    rows = np.flatnonzero(ink.any(axis=1))
    bands = []
    for r in rows:
        if bands and r - pad <= bands[-1][1]:
            bands[-1][1] = r + pad + 1
        else:
            bands.append([max(0, r - pad), r + pad + 1])
    return [(a, min(b, ink.shape[0])) for a, b in bands]


def ocr_tokens(ds, frames=(0,), scale=3, bands=None):
    """pytesseract's words (upper case, letters and digits only) in the given frames
    (only the given row bands when bands is not None: the reference then reads where
    text was planted, not the speckle), upscaled like medtrain does (small overlay
    fonts), in two page segmentation modes."""
    import pytesseract
    words = set()
    shown = display8(ds)
    crops = [shown[f][a:b] for f in frames for a, b in (bands or [(0, shown.shape[1])])]
    for frame in crops:
        img = Image.fromarray(frame).resize((frame.shape[1] * scale, frame.shape[0] * scale), Image.BILINEAR)
        for config in ("--psm 11", "--psm 6"):  # sparse text, and one uniform block
            text = pytesseract.image_to_string(img, config=config)
            words |= {"".join(ch for ch in w if ch.isalnum()).upper() for w in text.split()}
    words.discard("")
    return words


def within_one_edit(a, b):
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)):] == b[i + 1:]


def leaked(planted, words):
    """Planted tokens an OCR word gives away: contained in it, or one OCR error from it."""
    return sorted(t for t in planted
                  if any(t in w or (len(w) >= 5 and within_one_edit(t, w)) for w in words))


def planted_tokens(strings):
    """The tokens of planted strings an OCR could return (>= 4 characters, letters and digits)."""
    tokens = set()
    for s in strings:
        for w in s.replace("^", " ").replace(",", " ").split():
            w = "".join(ch for ch in w if ch.isalnum()).upper()
            if len(w) >= 4:
                tokens.add(w)
    return tokens


def long_cine(path, *, frames, changing_band=False, seed=8, rows=96, cols=128):
    """A long 8-bit cine: the name in the top band of every frame over changing
    speckle; changing_band: a frame counter in the bottom band as well, so that the
    band differs in every frame."""
    rng = np.random.default_rng(seed)
    mask, ink = draw_texts((rows, cols), [Text("KOWALCZYK", (4, 2), "sans", 13)])
    out = np.empty((frames, rows, cols), np.uint8)
    for f in range(frames):
        img = speckle(rows, cols, rng)
        if changing_band:
            img[-10:, :] = 0
            img[-10:, : (f % cols) + 1] = 255  # a progress bar: one more column per frame
        out[f] = np.clip(np.rint(mask * 255 + (1 - mask) * img), 0, 255).astype(np.uint8)
    ds = write_cine(out, path)
    return ds, Planted(["KOWALCZYK"], [], ink)


def wide_sc(path, *, rows=200, cols=5000):
    """An 8-bit secondary capture wider than 4096 px (read in tiles): a date near the
    first tile edge, the name in the last tile."""
    texts = [Text("03/14/2024", (2000, 10), "sans", 22), Text("KOWALCZYK MARGARETHE", (4500, 10), "sans", 22)]
    mask, ink = draw_texts((rows, cols), texts)
    ds = base_dataset(modality="SC", sop_class=SC_CLASS, rows=rows, cols=cols)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.clip(np.rint(mask * 255), 0, 255).astype(np.uint8).tobytes()
    finish(ds, path)
    return ds, Planted([t.text for t in texts], [], ink)


def document_sc(path, *, rows=240, cols=320):
    """A scanned-document-like secondary capture: PHI in the middle of the page
    (outside the top/bottom bands), small fonts, light text on a dark page."""
    texts = [Text("DOB 08/02/1957", (40, 100), "sans", 11), Text("Kowalczyk", (40, 130), "serif-bold", 11),
             Text("Report page 1", (40, 160), "sans", 11, phi=False)]
    mask, ink = draw_texts((rows, cols), texts)
    ds = base_dataset(modality="OT", sop_class=SC_CLASS, rows=rows, cols=cols)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.clip(np.rint(mask * 230 + 20), 0, 255).astype(np.uint8).tobytes()
    finish(ds, path)
    return ds, Planted([t.text for t in texts if t.phi], [t.text for t in texts if not t.phi], ink,
                       (mask > 0.25) & ~ink)
