"""RT dose, enhanced multi-frame and DICOM SEG at the CLI (docs/dicom.md).

`medtrain inspect` on pydicom's bundled RT dose prints the dose grid as
pydicom computes it (stored x DoseGridScaling); `medtrain pack --volumes
--target mask` takes a DICOM SEG (written by highdicom,
tests/data/seg_reference.py) as the mask of a series, and a SEG of another
series stops the pack with one line naming the SEG and the series UID.
"""
import re
import subprocess
import sys

import numpy as np
import pydicom
from pydicom.data import get_testdata_file

from conftest import SOURCE, assert_user_error, run


def field(stdout, name):
    m = re.search(rf"^{re.escape(name)}:\s+(.*)$", stdout, re.M)
    assert m, (name, stdout)
    return m.group(1)


def test_inspect_prints_the_rt_dose_grid_as_pydicom_computes_it():
    path = get_testdata_file("rtdose.dcm")
    result = run("inspect", path)
    assert result.returncode == 0, result.stderr
    assert field(result.stdout, "volume").startswith("RT dose, 15x10x10"), result.stdout
    ds = pydicom.dcmread(path)
    dose = ds.pixel_array * float(ds.DoseGridScaling)
    m = re.match(r"min (\S+), max (\S+) RELATIVE", field(result.stdout, "dose grid"))
    assert m, result.stdout
    assert abs(float(m.group(1)) - dose.min()) <= 1e-6 * dose.max()
    assert abs(float(m.group(2)) - dose.max()) <= 1e-6 * dose.max()
    assert field(result.stdout, "spacing (z, y, x)") == "5, 10, 10 mm"


def test_pack_takes_a_seg_as_the_mask_and_refuses_one_of_another_series(tmp_path):
    demo = tmp_path / "demo"
    made = run("demo-data", "--out", demo, "--count", 8, "--patients", 1, "--val-fraction", 0, "--size", 32,
               "--volumes", "--transfer-syntax", "explicit-le")
    assert made.returncode == 0, made.stderr
    subprocess.run([sys.executable, SOURCE / "tests/data/seg_reference.py", demo / "images/P0000", demo],
                   check=True, capture_output=True)
    names = "background,spleen,liver,tumour"
    (demo / "seg.csv").write_text("path,label,mask,patient_id,split\nimages/P0000,1,seg.dcm,P0000,train\n")
    packed = run("pack", "--manifest", demo / "seg.csv", "--out", tmp_path / "packed", "--target", "mask",
                 "--volumes", "--label-names", names)
    assert packed.returncode == 0, packed.stderr
    (demo / "bad.csv").write_text(
        "path,label,mask,patient_id,split\nimages/P0000,1,seg_other_series.dcm,P0000,train\n")
    bad = run("pack", "--manifest", demo / "bad.csv", "--out", tmp_path / "bad", "--target", "mask", "--volumes",
              "--label-names", names)
    assert_user_error(bad, "seg_other_series.dcm", "references series 1.2.3.4.5.6.7.8.9, which is absent")
