"""Writes the DICOM test corpus: every transfer syntax medtrain decodes, crossed
with the pixel layouts that break decoders (signed 12-bit with garbage in the
unused bits, MONOCHROME1, RGB planar 0 and 1, YBR_FULL, multi-frame).

Usage: dicom_corpus.py OUT_DIR [--bundled] [--size ROWSxCOLS]

Files are written by independent tools: pydicom (uncompressed, implicit,
JPEG 2000 through pylibjpeg-openjpeg's encoder), DCMTK's command-line tools
(dcmconv +tb big endian / +td deflate, dcmcrle, dcmcjpeg, dcmcjpls). With
--bundled, pydicom's own test files that carry pixel data medtrain supports are
copied too (real-world files from other writers; shipped inside the pydicom
wheel, so this works offline), and those medtrain refuses go to
OUT_DIR/unsupported/ with unsupported.csv (file,error words).

OUT_DIR/corpus.csv lists file,transfer_syntax_uid,tolerance: tolerance is the
largest absolute difference allowed against pydicom after the modality LUT, 0
for lossless files, a few units for lossy ones (two JPEG decoders' inverse DCTs
may round differently).
"""
import csv
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (JPEG2000, ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless,
                         SecondaryCaptureImageStorage, generate_uid)

ROWS, COLS = 48, 64

# Bundled pydicom files medtrain refuses, with the words its error must contain.
BUNDLED_UNSUPPORTED = {
    "MR_truncated.dcm": "truncated or corrupt",
    "JPEG2000-embedded-sequence-delimiter.dcm": "JPEG 2000 header unreadable",
}

# Bundled pydicom files medtrain must decode like pydicom (tolerance per file).
BUNDLED = {
    "CT_small.dcm": 0, "MR_small.dcm": 0, "MR_small_RLE.dcm": 0, "MR_small_bigendian.dcm": 0,
    "MR_small_expb.dcm": 0, "MR_small_implicit.dcm": 0, "MR_small_jp2klossless.dcm": 0,
    "MR_small_jpeg_ls_lossless.dcm": 0, "MR_small_padded.dcm": 0, "JPEG2000.dcm": 0,
    "JPGExtended.dcm": 4, "JPEGLSNearLossless_16.dcm": 0, "JPEGLSNearLossless_08.dcm": 0,
    "SC_rgb_rle.dcm": 0, "SC_rgb_rle_2frame.dcm": 0, "SC_rgb_rle_16bit.dcm": 0, "SC_rgb_rle_16bit_2frame.dcm": 0,
    "SC_rgb_small_odd.dcm": 0, "SC_rgb_small_odd_big_endian.dcm": 0, "SC_ybr_full_422_uncompressed.dcm": 0,
    "SC_rgb_jpeg_dcmtk.dcm": 3, "SC_rgb_dcmtk_+eb+cy+s2.dcm": 3, "SC_rgb_dcmtk_+eb+cy+s4.dcm": 3,
    "SC_rgb_dcmtk_+eb+cy+np.dcm": 3, "examples_rgb_color.dcm": 0, "examples_ybr_color.dcm": 4,
    "image_dfl.dcm": 0, "ExplVR_BigEnd.dcm": 0,
    "examples_jpeg2k.dcm": 0, "GDCMJ2K_TextGBR.dcm": 0, "J2K_pixelrep_mismatch.dcm": 0,
    # Bit depths: 1-bit SEG-like frames (little and big endian), 32-bit dose and RGB RLE.
    "liver_1frame.dcm": 0, "liver_expb_1frame.dcm": 0, "rtdose_1frame.dcm": 0, "rtdose_expb_1frame.dcm": 0,
    "SC_rgb_rle_32bit.dcm": 0, "SC_rgb_rle_32bit_2frame.dcm": 0,
    # Colour: PALETTE COLOR, and JPEG baseline RGB / YBR_FULL / YBR_FULL_422 from
    # other writers (two JPEG decoders' inverse DCTs and upsampling round apart).
    "examples_palette.dcm": 0, "SC_rgb_dcmtk_+eb+cr.dcm": 3, "SC_rgb_dcmtk_+eb+cy+n1.dcm": 3,
    "SC_rgb_dcmtk_+eb+cy+n2.dcm": 3, "SC_jpeg_no_color_transform.dcm": 3, "SC_jpeg_no_color_transform_2.dcm": 3,
    "SC_rgb_jpeg_app14_dcmd.dcm": 3, "SC_rgb_jpeg_lossy_gdcm.dcm": 3, "SC_rgb_small_odd_jpeg.dcm": 3,
    "SC_rgb_jpeg_gdcm.dcm": 0, "SC_rgb_jpeg_dcmd.dcm": 0, "SC_rgb_gdcm_KY.dcm": 0,
    "SC_rgb_jls_lossy_line.dcm": 0, "SC_rgb_jls_lossy_sample.dcm": 0,
}


def write_native(path, arr, photometric, bits_stored, signed=False, planar=0, slope=None, intercept=None,
                 modality="OT", window=None, syntax=ExplicitVRLittleEndian):
    """arr: frames x rows x cols (x 3), already laid out as stored (planar 1: frames x 3 x rows x cols)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    frames = arr.shape[0]
    colour = photometric not in ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR")
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = photometric
    if colour:
        ds.PlanarConfiguration = planar
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.Rows, ds.Columns = ROWS, COLS
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelSpacing = [0.7, 0.8]
    if slope is not None:
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    ds.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OB" if ds.BitsAllocated == 8 else "OW"
    ds.save_as(path, enforce_file_format=True)


def write_bit_depth(path, pixels, shape, bits_allocated, bits_stored, signed=False, slope=None, intercept=None,
                    photometric="MONOCHROME2", element="PixelData", syntax=ExplicitVRLittleEndian):
    """pixels: the Pixel Data bytes as stored (little endian); shape: (frames, rows, cols)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.SamplesPerPixel = 3 if photometric == "RGB" else 1
    ds.PhotometricInterpretation = photometric
    if photometric == "RGB":
        ds.PlanarConfiguration = 0
    ds.NumberOfFrames = shape[0]
    ds.Rows, ds.Columns = shape[1], shape[2]
    ds.BitsAllocated = bits_allocated
    if element == "PixelData":  # Float Pixel Data has no BitsStored, HighBit, PixelRepresentation
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits_stored, bits_stored - 1, 1 if signed else 0
    if slope is not None:
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    setattr(ds, element, pixels)
    ds[element].VR = {"PixelData": "OB" if bits_allocated <= 8 else "OW", "FloatPixelData": "OF",
                      "DoubleFloatPixelData": "OD"}[element]
    ds.save_as(path, enforce_file_format=True)


def make_bit_depths(out, rng):
    """Yields (file, tolerance): BitsAllocated 1, 32 (unsigned, signed, masked, rescaled), Float and Double."""
    from pydicom.pixels import pack_bits
    # 1 bit, 3 frames of 7 x 9 = 63 bits: frames 2 and 3 start inside a byte.
    bits = rng.integers(0, 2, (3, 7, 9)).astype(np.uint8)
    packed = pack_bits(bits.ravel(), pad=True)
    for name, syntax in [("explicit", ExplicitVRLittleEndian), ("implicit", ImplicitVRLittleEndian)]:
        write_bit_depth(out / f"bits1_{name}.dcm", packed, bits.shape, 1, 1, syntax=syntax)
        yield f"bits1_{name}.dcm", 0
    dcmtk("dcmconv", ["+td"], out / "bits1_explicit.dcm", out / "bits1_deflate.dcm")
    yield "bits1_deflate.dcm", 0

    # 32 bit: full unsigned range with a fractional rescale (float32 rounds values above 2^24).
    # ROWS x COLS so that --size gives the decode benchmark realistic 32-bit slices.
    shape = (2, ROWS, COLS)
    u32 = rng.integers(0, 2**32, shape, dtype=np.uint64).astype(np.uint32)
    u32.flat[:3] = [0, 2**32 - 1, 2**24 + 1]
    write_bit_depth(out / "u32.dcm", u32.astype("<u4").tobytes(), shape, 32, 32, slope=0.25, intercept=-100)
    s32 = rng.integers(-2**31, 2**31, shape, dtype=np.int64).astype(np.int32)
    s32.flat[:2] = [-2**31, 2**31 - 1]
    write_bit_depth(out / "s32.dcm", s32.astype("<i4").tobytes(), shape, 32, 32, signed=True, slope=1, intercept=0)
    write_bit_depth(out / "s32_implicit.dcm", s32.astype("<i4").tobytes(), shape, 32, 32, signed=True,
                    slope=3, intercept=-7, syntax=ImplicitVRLittleEndian)
    # Signed 24 of 32 bits with garbage in the top 8: masked, then sign-extended from bit 23.
    s24 = rng.integers(-2**23, 2**23, shape, dtype=np.int64)
    garbage = (s24 & 0xFFFFFF) | (rng.integers(0, 256, shape, dtype=np.int64) << 24)
    write_bit_depth(out / "s24_of_32.dcm", garbage.astype("<u4").tobytes(), shape, 32, 24, signed=True,
                    slope=0.5, intercept=10)
    for name in ["u32", "s32", "s32_implicit", "s24_of_32"]:
        yield f"{name}.dcm", 0
    for name, tool, args in [("bigendian", "dcmconv", ["+tb"]), ("deflate", "dcmconv", ["+td"]),
                             ("rle", "dcmcrle", [])]:
        for src in ["u32", "s24_of_32"]:
            dcmtk(tool, args, out / f"{src}.dcm", out / f"{src}_{name}.dcm")
            yield f"{src}_{name}.dcm", 0
    # RGB, 32 bits per sample, RLE (12 segments per frame).
    rgb32 = rng.integers(0, 2**32, (2, 6, 5, 3), dtype=np.uint64).astype(np.uint32)
    write_bit_depth(out / "rgb32.dcm", rgb32.astype("<u4").tobytes(), (2, 6, 5), 32, 32, photometric="RGB")
    dcmtk("dcmcrle", [], out / "rgb32.dcm", out / "rgb32_rle.dcm")
    yield "rgb32.dcm", 0
    yield "rgb32_rle.dcm", 0

    # Float and Double Float Pixel Data (values, no stored-bits step).
    f32 = rng.normal(0, 1000, shape).astype(np.float32)
    f64 = rng.normal(0, 1e6, shape) + 1e-3
    write_bit_depth(out / "float32.dcm", f32.astype("<f4").tobytes(), shape, 32, 32, element="FloatPixelData")
    write_bit_depth(out / "float32_implicit.dcm", f32.astype("<f4").tobytes(), shape, 32, 32,
                    element="FloatPixelData", syntax=ImplicitVRLittleEndian)
    write_bit_depth(out / "float64.dcm", f64.astype("<f8").tobytes(), shape, 64, 64, element="DoubleFloatPixelData")
    for name in ["float32", "float32_implicit", "float64"]:
        yield f"{name}.dcm", 0
    dcmtk("dcmconv", ["+tb"], out / "float64.dcm", out / "float64_bigendian.dcm")
    yield "float64_bigendian.dcm", 0


# Damaged files medtrain must refuse (pydicom fails on them too): name -> words of the error.
DAMAGED_REFUSED = {}


def make_damaged(out):
    """Yields (file, tolerance) for damaged files that decode as in pydicom; fills DAMAGED_REFUSED."""
    from pydicom.encaps import encapsulate, generate_frames
    src = pydicom.dcmread(out / "ct12_j2k.dcm")
    frame = next(generate_frames(src.PixelData, number_of_frames=1)).rstrip(b"\x00")  # ends with EOC (FF D9)

    def j2k_variant(name, data):
        ds = pydicom.dcmread(out / "ct12_j2k.dcm")
        ds.PixelData = encapsulate([data])
        ds.save_as(out / name)
    # A stray EOC, or padding and junk after the EOC: the codestream ends at its EOC.
    for name, data in [("j2k_stray_eoc.dcm", frame + b"\xff\xd9"),
                       ("j2k_odd_padded_eoc.dcm", frame + b"\x00\xff\xd9\x00"),
                       ("j2k_trailing_junk.dcm", frame + b"\x00\x00\x00\x00\xff\xd9")]:
        j2k_variant(name, data)
        yield name, 0
    j2k_variant("j2k_no_eoc.dcm", frame[:-2])  # the last tile cut short
    DAMAGED_REFUSED["j2k_no_eoc.dcm"] = "JPEG 2000 decoding failed"

    def header_variant(src_name, name, **attrs):
        ds = pydicom.dcmread(out / src_name)
        for k, v in attrs.items():
            setattr(ds, k, v)
        ds.save_as(out / name)
    # JPEG / JPEG-LS stream precision 12 under a header claiming other stored bits: masked like pydicom.
    header_variant("ct12_jpeg_lossless.dcm", "jpeg_sof12_stored10.dcm", BitsStored=10, HighBit=9)
    header_variant("ct12_jpegls.dcm", "jpegls_12_stored16.dcm", BitsStored=16, HighBit=15)
    yield "jpeg_sof12_stored10.dcm", 0
    yield "jpegls_12_stored16.dcm", 0
    # Stream precision and BitsAllocated disagree: samples would be read at the wrong width.
    header_variant("ct12_jpeg_lossless.dcm", "jpeg_sof12_allocated8.dcm", BitsAllocated=8, BitsStored=8, HighBit=7)
    header_variant("mono1_jpeg_baseline.dcm", "jpeg_sof8_allocated16.dcm", BitsAllocated=16, BitsStored=12, HighBit=11)
    DAMAGED_REFUSED["jpeg_sof12_allocated8.dcm"] = "stream decodes to 16-bit samples but BitsAllocated"
    DAMAGED_REFUSED["jpeg_sof8_allocated16.dcm"] = "stream decodes to 8-bit samples but BitsAllocated"


def smooth(rng, shape, lo, hi):
    """A smooth image plus mild noise: realistic for lossy codecs."""
    y, x = np.meshgrid(np.linspace(0, 1, shape[-2]), np.linspace(0, 1, shape[-1]), indexing="ij")
    base = 0.5 + 0.4 * np.sin(3 * x + 2 * y)
    img = np.broadcast_to(base, shape) + rng.normal(0, 0.02, shape)
    return (lo + np.clip(img, 0, 1) * (hi - lo)).round()


def dcmtk(tool, args, src, dst):
    subprocess.run([tool, *args, str(src), str(dst)], check=True, capture_output=True)


def j2k(src, dst, lossless=True):
    ds = pydicom.dcmread(src)
    if lossless:
        ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")
    else:
        ds.compress(JPEG2000, encoding_plugin="pylibjpeg", j2k_cr=[8])
    ds.save_as(dst, enforce_file_format=True)


def make(out, rng):
    """Yields (file, tolerance) for every generated file."""
    # CT-like: 12 of 16 bits, unsigned, HU intercept; every syntax.
    ct = smooth(rng, (1, ROWS, COLS), 0, 4095).astype(np.uint16)
    write_native(out / "ct12_explicit.dcm", ct, "MONOCHROME2", 12, slope=1, intercept=-1024, modality="CT",
                 window=(40, 400))
    write_native(out / "ct12_implicit.dcm", ct, "MONOCHROME2", 12, slope=1, intercept=-1024, modality="CT",
                 syntax=ImplicitVRLittleEndian)
    src = out / "ct12_explicit.dcm"
    yield "ct12_explicit.dcm", 0
    yield "ct12_implicit.dcm", 0
    for name, tool, args, tol in [("bigendian", "dcmconv", ["+tb"], 0), ("deflate", "dcmconv", ["+td"], 0),
                                  ("rle", "dcmcrle", [], 0), ("jpeg_lossless", "dcmcjpeg", ["+e1"], 0),
                                  ("jpeg_lossless_sv6", "dcmcjpeg", ["+el"], 0),
                                  ("jpeg_extended", "dcmcjpeg", ["+ee"], 8), ("jpegls", "dcmcjpls", [], 0),
                                  ("jpegls_near", "dcmcjpls", ["+en"], 0)]:
        dcmtk(tool, args, src, out / f"ct12_{name}.dcm")
        yield f"ct12_{name}.dcm", tol
    j2k(src, out / "ct12_j2k.dcm")
    j2k(src, out / "ct12_j2k_lossy.dcm", lossless=False)
    yield "ct12_j2k.dcm", 0
    yield "ct12_j2k_lossy.dcm", 0

    # Signed 12 of 16 bits: garbage in the top 4 bits uncompressed; clean for codecs.
    s12 = rng.integers(-2048, 2048, (1, ROWS, COLS)).astype(np.int16)
    garbage = (s12.view(np.uint16) & 0x0FFF) | (rng.integers(0, 16, s12.shape).astype(np.uint16) << 12)
    write_native(out / "s12_garbage.dcm", garbage, "MONOCHROME2", 12, signed=True, slope=0.5, intercept=-20)
    dcmtk("dcmcrle", [], out / "s12_garbage.dcm", out / "s12_garbage_rle.dcm")
    write_native(out / "s12.dcm", s12, "MONOCHROME2", 12, signed=True, slope=0.5, intercept=-20)
    yield "s12_garbage.dcm", 0
    yield "s12_garbage_rle.dcm", 0
    yield "s12.dcm", 0
    dcmtk("dcmcjpls", [], out / "s12.dcm", out / "s12_jpegls.dcm")
    dcmtk("dcmcjpeg", ["+e1"], out / "s12.dcm", out / "s12_jpeg_lossless.dcm")
    j2k(out / "s12.dcm", out / "s12_j2k.dcm")
    yield "s12_jpegls.dcm", 0
    yield "s12_jpeg_lossless.dcm", 0
    yield "s12_j2k.dcm", 0

    # 8-bit MONOCHROME1 with a rescale.
    m1 = smooth(rng, (1, ROWS, COLS), 0, 255).astype(np.uint8)
    write_native(out / "mono1.dcm", m1, "MONOCHROME1", 8, slope=2, intercept=10, window=(200, 100))
    yield "mono1.dcm", 0
    for name, tool, args, tol in [("rle", "dcmcrle", [], 0), ("jpeg_baseline", "dcmcjpeg", ["+eb"], 2 * 4),
                                  ("jpegls", "dcmcjpls", [], 0)]:
        dcmtk(tool, args, out / "mono1.dcm", out / f"mono1_{name}.dcm")
        yield f"mono1_{name}.dcm", tol
    j2k(out / "mono1.dcm", out / "mono1_j2k.dcm")
    yield "mono1_j2k.dcm", 0

    # Multi-frame 12-bit.
    mf = rng.integers(0, 4096, (3, ROWS, COLS)).astype(np.uint16)
    write_native(out / "mf3.dcm", mf, "MONOCHROME2", 12, slope=1, intercept=-1024)
    yield "mf3.dcm", 0
    for name, tool, args in [("rle", "dcmcrle", []), ("jpegls", "dcmcjpls", []), ("jpeg_lossless", "dcmcjpeg", ["+e1"]),
                             ("deflate", "dcmconv", ["+td"])]:
        dcmtk(tool, args, out / "mf3.dcm", out / f"mf3_{name}.dcm")
        yield f"mf3_{name}.dcm", 0
    j2k(out / "mf3.dcm", out / "mf3_j2k.dcm")
    yield "mf3_j2k.dcm", 0

    # Colour: RGB planar 0 and 1, YBR_FULL, two frames.
    rgb = np.stack([smooth(rng, (2, ROWS, COLS), 0, 255) for _ in range(3)], axis=-1).astype(np.uint8)
    write_native(out / "rgb_planar0.dcm", rgb, "RGB", 8, planar=0)
    write_native(out / "rgb_planar1.dcm", np.ascontiguousarray(rgb.transpose(0, 3, 1, 2)), "RGB", 8, planar=1)
    yield "rgb_planar0.dcm", 0
    yield "rgb_planar1.dcm", 0
    for name, tool, args, tol in [("bigendian", "dcmconv", ["+tb"], 0), ("rle", "dcmcrle", [], 0),
                                  ("jpeg_baseline", "dcmcjpeg", ["+eb"], 8), ("jpegls", "dcmcjpls", [], 0),
                                  ("jpeg_lossless", "dcmcjpeg", ["+e1"], 0)]:
        dcmtk(tool, args, out / "rgb_planar0.dcm", out / f"rgb_{name}.dcm")
        yield f"rgb_{name}.dcm", tol
    j2k(out / "rgb_planar0.dcm", out / "rgb_j2k.dcm")
    yield "rgb_j2k.dcm", 0
    ybr = rng.integers(16, 240, (1, ROWS, COLS, 3)).astype(np.uint8)
    write_native(out / "ybr_full.dcm", ybr, "YBR_FULL", 8, planar=0)
    write_native(out / "ybr_full_planar1.dcm", np.ascontiguousarray(ybr.transpose(0, 3, 1, 2)), "YBR_FULL", 8, planar=1)
    dcmtk("dcmcrle", [], out / "ybr_full.dcm", out / "ybr_full_rle.dcm")
    yield "ybr_full.dcm", 0
    yield "ybr_full_planar1.dcm", 0
    yield "ybr_full_rle.dcm", 0
    yield from make_colour(out, rng, rgb)

    # Full 16-bit unsigned and 8-bit MONOCHROME2 without rescale.
    u16 = rng.integers(0, 65536, (1, ROWS, COLS)).astype(np.uint16)
    write_native(out / "u16.dcm", u16, "MONOCHROME2", 16)
    dcmtk("dcmcjpls", [], out / "u16.dcm", out / "u16_jpegls.dcm")
    j2k(out / "u16.dcm", out / "u16_j2k.dcm")
    yield "u16.dcm", 0
    yield "u16_jpegls.dcm", 0
    yield "u16_j2k.dcm", 0


def write_palette(path, indices, lut_bits, first_mapped=0, packed8=False, segmented=None):
    """PALETTE COLOR: indices (frames x rows x cols, uint8/uint16) and tables of
    lut_bits entries (packed8: one byte per entry in the OW element; segmented:
    the three segmented tables' words instead of plain tables)."""
    write_native(path, indices, "PALETTE COLOR", indices.dtype.itemsize * 8)
    ds = pydicom.dcmread(path)
    entries = 256 if indices.dtype == np.uint8 else 4096
    ds.RedPaletteColorLookupTableDescriptor = [entries % 65536, first_mapped, lut_bits]
    ds.GreenPaletteColorLookupTableDescriptor = [entries % 65536, first_mapped, lut_bits]
    ds.BluePaletteColorLookupTableDescriptor = [entries % 65536, first_mapped, lut_bits]
    for colour in ("Red", "Green", "Blue"):
        ds[f"{colour}PaletteColorLookupTableDescriptor"].VR = "US"
    top = 255 if lut_bits == 8 else 65535
    ramp = np.linspace(0, top, entries)
    tables = [ramp, top - ramp, top * (0.5 + 0.5 * np.sin(ramp / top * 6))]
    for colour, table in zip(("Red", "Green", "Blue"), tables):
        if segmented is not None:
            words = np.asarray(segmented[colour], dtype=np.uint16 if lut_bits == 16 else np.uint8)
            setattr(ds, f"Segmented{colour}PaletteColorLookupTableData", words.tobytes())
            ds[f"Segmented{colour}PaletteColorLookupTableData"].VR = "OW"
            continue
        dtype = np.uint8 if packed8 else np.uint16
        setattr(ds, f"{colour}PaletteColorLookupTableData", table.round().astype(dtype).tobytes())
        ds[f"{colour}PaletteColorLookupTableData"].VR = "OW"
    ds.save_as(path, enforce_file_format=True)


def make_colour(out, rng, rgb):
    """Every photometric interpretation x planar configuration medtrain reads
    (docs/dicom.md, Colour), beyond the RGB/YBR_FULL files above."""
    ybr = rng.integers(16, 240, (2, ROWS, COLS, 3)).astype(np.uint8)
    # YBR_FULL_422 uncompressed (planar 0 only, PS3.3 C.7.6.3.1.2): Y0 Y1 Cb Cr per pair.
    pairs = ybr.reshape(2, ROWS, COLS // 2, 2, 3)
    packed = np.concatenate([pairs[..., 0], pairs[..., 0, 1:]], axis=-1)  # Y0 Y1 Cb Cr (first pixel's chroma)
    write_native(out / "ybr_full_422.dcm", np.ascontiguousarray(packed), "YBR_FULL_422", 8)
    yield "ybr_full_422.dcm", 0
    # JPEG baseline: RGB as stored, YBR_FULL, YBR_FULL_422 (DCMTK converts and subsamples).
    for name, args in [("rgb_jpeg_cr", ["+eb", "+cr"]), ("rgb_jpeg_ybr_full", ["+eb", "+cy", "+s4"]),
                       ("rgb_jpeg_ybr_422", ["+eb", "+cy", "+s2"])]:
        dcmtk("dcmcjpeg", args, out / "rgb_planar0.dcm", out / f"{name}.dcm")
        yield f"{name}.dcm", 3
    # Planar 1 through codecs that keep it, and YBR_FULL through lossless JPEG.
    dcmtk("dcmcrle", [], out / "rgb_planar1.dcm", out / "rgb_planar1_rle.dcm")
    yield "rgb_planar1_rle.dcm", 0
    dcmtk("dcmcjpeg", ["+e1"], out / "ybr_full.dcm", out / "ybr_full_jpeg_lossless.dcm")
    yield "ybr_full_jpeg_lossless.dcm", 0
    # JPEG 2000 with the colour transforms: YBR_RCT (lossless) and YBR_ICT (lossy).
    for name, lossless in [("rgb_j2k_rct", True), ("rgb_j2k_ict", False)]:
        ds = pydicom.dcmread(out / "rgb_planar0.dcm")
        if lossless:
            ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg", use_mct=True)
        else:
            ds.compress(JPEG2000, encoding_plugin="pylibjpeg", use_mct=True, j2k_cr=[4])
        ds.PhotometricInterpretation = "YBR_RCT" if lossless else "YBR_ICT"  # pydicom leaves RGB
        ds.save_as(out / f"{name}.dcm", enforce_file_format=True)
        yield f"{name}.dcm", 0
    # PALETTE COLOR: 8- and 16-bit indices and tables, one byte per entry,
    # an offset first mapped value, segmented tables, and through codecs.
    idx8 = rgb[..., 0]
    idx16 = (rgb[..., 1].astype(np.uint16) * 17) % 4200  # some past the 4096 entries
    write_palette(out / "palette8.dcm", idx8, 16)
    write_palette(out / "palette8_lut8.dcm", idx8, 8)
    write_palette(out / "palette8_packed.dcm", idx8, 8, packed8=True)
    write_palette(out / "palette16.dcm", idx16, 16, first_mapped=100)
    segmented = {"Red": [0, 1, 0, 1, 127, 65535, 1, 127, 1000, 0, 1, 5],
                 "Green": [0, 1, 65535, 1, 255, 0],
                 "Blue": [0, 2, 10, 20, 1, 100, 30000, 2, 1, 0, 0, 1, 152, 0]}
    write_palette(out / "palette8_segmented.dcm", idx8, 16, segmented=segmented)
    for name in ["palette8", "palette8_lut8", "palette8_packed", "palette16", "palette8_segmented"]:
        yield f"{name}.dcm", 0
    dcmtk("dcmcrle", [], out / "palette8.dcm", out / "palette8_rle.dcm")
    dcmtk("dcmcjpls", [], out / "palette16.dcm", out / "palette16_jpegls.dcm")
    j2k(out / "palette8.dcm", out / "palette8_j2k.dcm")
    for name in ["palette8_rle", "palette16_jpegls", "palette8_j2k"]:
        yield f"{name}.dcm", 0


def main():
    global ROWS, COLS
    out = pathlib.Path(sys.argv[1])
    if "--size" in sys.argv:  # benchmarks want realistic 512x512 slices
        ROWS, COLS = (int(x) for x in sys.argv[sys.argv.index("--size") + 1].split("x"))
    out.mkdir(parents=True, exist_ok=True)
    rows = list(make(out, np.random.default_rng(7)))
    rows += list(make_bit_depths(out, np.random.default_rng(8)))
    rows += list(make_damaged(out))
    if "--bundled" in sys.argv[2:]:
        from pydicom.data import get_testdata_file
        for name, tol in BUNDLED.items():
            path = get_testdata_file(name, download=False)
            if path is None:
                continue
            shutil.copy(path, out / f"pydicom_{name}")
            rows.append((f"pydicom_{name}", tol))
        bad = out / "unsupported"
        bad.mkdir(exist_ok=True)
        with open(bad / "unsupported.csv", "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["file", "error"])
            for name, words in BUNDLED_UNSUPPORTED.items():
                path = get_testdata_file(name, download=False)
                if path is not None:
                    shutil.copy(path, bad / name)
                    w.writerow([name, words])
            for name, words in DAMAGED_REFUSED.items():
                shutil.move(out / name, bad / name)
                w.writerow([name, words])
    with open(out / "corpus.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["file", "transfer_syntax_uid", "tolerance"])
        for name, tol in rows:
            uid = pydicom.dcmread(out / name, stop_before_pixels=True).file_meta.TransferSyntaxUID
            w.writerow([name, str(uid), tol])
    print(f"wrote {len(rows)} files to {out}")


if __name__ == "__main__":
    main()
