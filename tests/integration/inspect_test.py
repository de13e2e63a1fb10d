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
