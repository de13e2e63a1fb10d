"""`medtrain inspect FILE [--npy OUT]` against pydicom, the independent decoder.

For files of every transfer syntax and pixel layout (tests/data/dicom_corpus.py)
the .npy written by medtrain must equal pydicom's pixel_array after
apply_modality_lut (YBR converted to RGB, MONOCHROME1 reflected as medtrain
documents; exact for lossless files), and the printed header fields must match
what pydicom reads. Bad inputs exit 2 with one line naming the file and problem.
"""
import csv
import re
import subprocess
import sys

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from conftest import SOURCE, assert_user_error, run

sys.path.insert(0, str(SOURCE / "tests" / "data"))
from pydicom_reference import compare, reference  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    subprocess.run([sys.executable, SOURCE / "tests/data/dicom_corpus.py", out, "--bundled"], check=True,
                   capture_output=True)
    with open(out / "corpus.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return out, rows


def field(stdout, name):
    m = re.search(rf"^{re.escape(name)}:\s+(.*)$", stdout, re.M)
    assert m, (name, stdout)
    return m.group(1)


def test_npy_matches_pydicom_for_every_file(corpus, tmp_path):
    folder, rows = corpus
    assert len(rows) >= 60
    # Our files cover every syntax and layout; pydicom's bundled files are all
    # checked by tests/data/pydicom_parity_test.cpp, a few suffice for the CLI.
    rows = [r for r in rows if not r["file"].startswith("pydicom_")
            or r["file"] in ("pydicom_CT_small.dcm", "pydicom_SC_ybr_full_422_uncompressed.dcm",
                             "pydicom_SC_rgb_small_odd_big_endian.dcm")]
    errors = []
    for row in rows:
        npy = tmp_path / (row["file"] + ".npy")
        r = run("inspect", folder / row["file"], "--npy", npy)
        assert r.returncode == 0, (row["file"], r.stderr)
        ours = np.load(npy)
        assert ours.dtype == np.float32
        err = compare(row["file"], ours, reference(folder / row["file"]), float(row["tolerance"]))
        if err:
            errors.append(err)
    assert not errors, "\n".join(errors)


def test_printed_header_matches_pydicom(corpus):
    folder, rows = corpus
    for name in ["ct12_jpegls.dcm", "s12_garbage.dcm", "mono1_rle.dcm", "rgb_planar1.dcm", "mf3_j2k.dcm"]:
        ds = pydicom.dcmread(folder / name)
        out = run("inspect", folder / name).stdout
        assert f"({ds.file_meta.TransferSyntaxUID})" in field(out, "transfer syntax")
        frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
        assert field(out, "rows x cols x frames") == f"{ds.Rows} x {ds.Columns} x {frames}"
        assert field(out, "bits") == f"allocated {ds.BitsAllocated}, stored {ds.BitsStored}, high bit {ds.HighBit}"
        assert field(out, "pixel representation").startswith(str(ds.PixelRepresentation))
        assert field(out, "photometric").startswith(ds.PhotometricInterpretation)
        assert field(out, "samples per pixel") == str(ds.SamplesPerPixel)
        if ds.SamplesPerPixel == 3:
            assert field(out, "planar configuration") == str(ds.PlanarConfiguration)
        slope = float(getattr(ds, "RescaleSlope", 1))
        intercept = float(getattr(ds, "RescaleIntercept", 0))
        m = re.match(r"slope (\S+), intercept (\S+)", field(out, "rescale"))
        assert (float(m.group(1)), float(m.group(2))) == (slope, intercept)
        sp = [float(x) for x in ds.PixelSpacing]
        assert [float(x) for x in field(out, "pixel spacing").split(" mm")[0].split(" x ")] == sp
        assert field(out, "modality") == ds.Modality
    out = run("inspect", folder / "ct12_explicit.dcm").stdout
    assert field(out, "window") == "center 40, width 400"


def write_mono(path, rows=4, cols=5, position=None, orientation=None, pixels=True, syntax=ExplicitVRLittleEndian,
               data=None):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID = "1.2.3.4"
    ds.Modality = "CT"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelSpacing = [0.5, 0.6]
    if position is not None:
        ds.ImagePositionPatient = list(position)
        ds.ImageOrientationPatient = list(orientation or [1, 0, 0, 0, 1, 0])
    if pixels:
        ds.PixelData = data if data is not None else np.arange(rows * cols, dtype="<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_series_folder_is_sorted_by_position(tmp_path):
    folder = tmp_path / "series"
    folder.mkdir()
    rng = np.random.default_rng(3)
    zs = [4.0, -2.0, 1.0, 7.0]  # file names in a different order than positions
    slices = {}
    for k, z in enumerate(zs):
        arr = rng.integers(0, 1000, (4, 5)).astype("<u2")
        write_mono(folder / f"im{k}.dcm", position=(10, 20, z), data=arr.tobytes())
        slices[z] = arr
    npy = tmp_path / "vol.npy"
    r = run("inspect", folder, "--npy", npy)
    assert r.returncode == 0, r.stderr
    want = np.stack([slices[z] for z in sorted(zs)]).astype(np.float32)
    np.testing.assert_array_equal(np.load(npy), want)
    assert field(r.stdout, "spacing (z, y, x)") == "3, 0.5, 0.6 mm"


def test_bad_inputs_exit_2_with_one_line(corpus, tmp_path):
    folder, _ = corpus
    good = (folder / "ct12_explicit.dcm").read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(good[: len(good) // 2])
    assert_user_error(run("inspect", cut), "cut.dcm", "truncated or corrupt")

    text = tmp_path / "notes.dcm"
    text.write_text("this is not a DICOM file\n" * 20)
    assert_user_error(run("inspect", text), "notes.dcm", "not a DICOM file")

    nopix = write_mono(tmp_path / "nopix.dcm", pixels=False)
    assert_user_error(run("inspect", nopix), "nopix.dcm", "no Pixel Data")

    short = write_mono(tmp_path / "short.dcm", data=np.zeros(7, "<u2").tobytes() + b"\0\0")
    assert_user_error(run("inspect", short), "short.dcm", "pixel data too short", "4*5*1*1 = 20")

    htj2k = write_mono(tmp_path / "htj2k.dcm", pixels=False, syntax="1.2.840.10008.1.2.4.201")
    ds = pydicom.dcmread(htj2k)
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + b"\0" * 12])
    ds["PixelData"].VR = "OB"
    ds.save_as(htj2k, enforce_file_format=True)
    assert_user_error(run("inspect", htj2k), "htj2k.dcm", "unsupported transfer syntax", "1.2.840.10008.1.2.4.201")

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    write_mono(mixed / "a.dcm", position=(0, 0, 0))
    write_mono(mixed / "b.dcm", rows=6, position=(0, 0, 1))
    assert_user_error(run("inspect", mixed), "mixed", "b.dcm", "size 6x5")

    assert_user_error(run("inspect", tmp_path / "missing.dcm"), "missing.dcm", "no such file")

    for row in csv.DictReader(open(folder / "unsupported" / "unsupported.csv")):
        assert_user_error(run("inspect", folder / "unsupported" / row["file"]), row["file"], row["error"])


# --- inspect --png: one frame as training sees it -------------------------------------------------
# The reference is computed here from pydicom's modality values (apply_modality_lut) with the
# training window of docs/dicom.md, y = clip((v - (center - width / 2)) / width, 0, 1), shown as
# round(255 y); MONOCHROME1 is then shown the way the DICOM standard displays it (minimum white,
# i.e. 255 - that), which is what medtrain's reflection of values and window must amount to.
# medtrain computes in float32 and we in float64: a pixel may differ by one level at a .5 edge.

from PIL import Image  # noqa: E402
from pydicom.pixels import apply_modality_lut  # noqa: E402


def write_image(path, pixels, photometric="MONOCHROME2", signed=False, bits_stored=None, **attrs):
    """A DICOM file of `pixels`: [H, W] or [F, H, W] grey (16-bit), or [H, W, 3] uint8 RGB."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = attrs.pop("Modality", "CT")
    rgb = photometric == "RGB"
    if rgb:
        ds.Rows, ds.Columns = pixels.shape[0], pixels.shape[1]
        ds.SamplesPerPixel, ds.PlanarConfiguration = 3, 0
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        data = pixels.astype(np.uint8)
    else:
        if pixels.ndim == 3:
            ds.NumberOfFrames = pixels.shape[0]
        ds.Rows, ds.Columns = pixels.shape[-2], pixels.shape[-1]
        ds.SamplesPerPixel = 1
        bits = bits_stored or 16
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bits, bits - 1, int(signed)
        data = pixels.astype("<i2" if signed else "<u2")
    ds.PhotometricInterpretation = photometric
    ds.PixelSpacing = [0.5, 0.5]
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.PixelData = data.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def windowed(values, center, width):
    y = np.clip((values.astype(np.float64) - (center - width / 2)) / width, 0.0, 1.0)
    return np.floor(y * 255 + 0.5)


def modality_values(path):
    ds = pydicom.dcmread(path)
    return np.asarray(apply_modality_lut(ds.pixel_array, ds), dtype=np.float64)


def read_png(path):
    img = Image.open(path)
    img.load()
    return img.mode, np.asarray(img).astype(np.float64)


def assert_close_picture(got, want):
    assert got.shape == want.shape, (got.shape, want.shape)
    diff = np.abs(got - want)
    assert diff.max() <= 1, (diff.max(), np.argwhere(diff > 1)[:5])
    assert (diff == 0).mean() >= 0.95, (diff == 0).mean()


def test_png_of_a_16_bit_ct_goes_through_the_training_window(tmp_path):
    rng = np.random.default_rng(11)
    stored = rng.integers(-1500, 6000, (12, 17))  # signed 16-bit, past 8 bits both ways
    path = write_image(tmp_path / "ct.dcm", stored, signed=True, RescaleSlope=0.5, RescaleIntercept=-1024,
                       WindowCenter=40, WindowWidth=400)
    hu = modality_values(path)
    assert hu.min() < -1024 and hu.max() > 1900  # far outside 0..255: truncation would show

    png = tmp_path / "ct.png"
    r = run("inspect", path, "--png", png)
    assert r.returncode == 0, r.stderr
    assert "window center 40, width 400 (the file's Window Center/Width)" in r.stdout, r.stdout
    mode, got = read_png(png)
    assert mode == "L"
    assert_close_picture(got, windowed(hu, 40, 400))
    assert got.min() == 0 and got.max() == 255  # the window clips both ends of this CT

    # The flags win over the file's window (a lung window).
    r = run("inspect", path, "--png", png, "--window-center", -600, "--window-width", 1500)
    assert r.returncode == 0, r.stderr
    assert "window center -600, width 1500 (--window-center/--window-width)" in r.stdout, r.stdout
    assert_close_picture(read_png(png)[1], windowed(hu, -600, 1500))

    # Without a window anywhere: the frame's own range, nothing clipped, order kept.
    bare = write_image(tmp_path / "bare.dcm", stored, signed=True, RescaleSlope=0.5, RescaleIntercept=-1024)
    r = run("inspect", bare, "--png", png)
    assert r.returncode == 0, r.stderr
    assert "the frame's value range" in r.stdout, r.stdout
    lo, hi = hu.min(), hu.max()
    assert_close_picture(read_png(png)[1], windowed(hu, (lo + hi) / 2, hi - lo))


def test_png_of_monochrome1_is_displayed_as_the_standard_shows_it(tmp_path):
    rng = np.random.default_rng(12)
    stored = rng.integers(0, 4096, (9, 14))
    stored[0, :3] = [0, 4095, 2000]
    path = write_image(tmp_path / "mono1.dcm", stored, photometric="MONOCHROME1", bits_stored=12,
                       Modality="CR", WindowCenter=1500, WindowWidth=2000)
    png = tmp_path / "mono1.png"
    r = run("inspect", path, "--png", png)
    assert r.returncode == 0, r.stderr
    mode, got = read_png(png)
    assert mode == "L"
    # MONOCHROME1: the window on the stored values, then minimum = white.
    want = 255 - windowed(modality_values(path), 1500, 2000)
    assert_close_picture(got, want)
    assert got[0, 0] == 255 and got[0, 1] == 0  # stored 0 is white, 4095 black


def test_png_of_rgb_stays_rgb(tmp_path):
    rgb = np.random.default_rng(13).integers(0, 256, (10, 6, 3)).astype(np.uint8)
    path = write_image(tmp_path / "rgb.dcm", rgb, photometric="RGB", Modality="XC")
    png = tmp_path / "rgb.png"
    r = run("inspect", path, "--png", png)
    assert r.returncode == 0, r.stderr
    assert "RGB" in r.stdout and "0..255 colour range" in r.stdout, r.stdout
    mode, got = read_png(png)
    assert mode == "RGB"
    np.testing.assert_array_equal(got, pydicom.dcmread(path).pixel_array.astype(np.float64))


def test_png_of_multiframe_and_series_draws_the_middle_or_the_chosen_frame(tmp_path):
    frames = np.stack([np.full((4, 5), 100 * (k + 1)) + np.arange(20).reshape(4, 5) for k in range(3)])
    path = write_image(tmp_path / "mf.dcm", frames, Modality="MR")
    png = tmp_path / "mf.png"
    for args, k in [((), 1), (("--frame", 2), 2), (("--frame", 0), 0)]:
        r = run("inspect", path, "--png", png, "--window-center", 200, "--window-width", 300, *args)
        assert r.returncode == 0, r.stderr
        assert f"frame {k} of 3" in r.stdout, r.stdout
        assert_close_picture(read_png(png)[1], windowed(frames[k].astype(np.float64), 200, 300))

    series = tmp_path / "series"
    series.mkdir()
    zs = [5.0, -1.0, 2.0]  # sorted: -1 (im1), 2 (im2), 5 (im0): the middle slice is im2
    for k, z in enumerate(zs):
        write_mono(series / f"im{k}.dcm", position=(0, 0, z), data=(frames[k] * 3).astype("<u2").tobytes())
    r = run("inspect", series, "--png", png)
    assert r.returncode == 0, r.stderr
    assert "slice 1 of 3 (the middle one)" in r.stdout, r.stdout
    middle = frames[2].astype(np.float64) * 3
    lo, hi = middle.min(), middle.max()
    assert_close_picture(read_png(png)[1], windowed(middle, (lo + hi) / 2, hi - lo))


def test_png_bad_inputs_exit_2_with_one_line(tmp_path):
    path = write_image(tmp_path / "mf.dcm", np.zeros((3, 4, 5)), Modality="MR")
    missing = tmp_path / "no_such_folder" / "x.png"
    assert_user_error(run("inspect", path, "--png", missing), "--png", "no_such_folder", "does not exist")
    assert_user_error(run("inspect", path, "--png", tmp_path), "--png", "is a folder")
    out = tmp_path / "x.png"
    assert_user_error(run("inspect", path, "--png", out, "--frame", 3), "--frame 3", "mf.dcm", "3 frames (0..2)")
    assert_user_error(run("inspect", path, "--png", out, "--frame", -1), "--frame -1", "3 frames (0..2)")
    assert not out.exists()
    single = write_image(tmp_path / "one.dcm", np.zeros((4, 5)))
    assert_user_error(run("inspect", single, "--png", out, "--frame", 1), "--frame 1", "1 frame (0..0)")
    assert_user_error(run("inspect", single, "--png", out, "--window-center", 0, "--window-width", 0),
                      "--window-width 0", "positive")
    assert_user_error(run("inspect", single, "--frame", 0), "--frame", "--png")  # needs --png
    assert not out.exists()
