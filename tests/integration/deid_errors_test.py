"""`medtrain deid` on bad input and the PHI guarantees: every bad case is one clear
line naming the file (exit 2) and leaves the input tree byte-identical; nothing the
tool prints or writes outside the DICOM outputs carries a planted patient value;
--verify finds a planted identified file."""
import os
import shutil
import sys

import pytest

from conftest import SOURCE, run

sys.path.insert(0, str(SOURCE / "tests/data/deid"))
from deid_reference import (PATIENT_ID, PATIENT_NAME, PRIVATE_TEXT, load_table, make_file, new_uid,  # noqa: E402
                            tree_hash)

TABLE, _ = load_table(SOURCE / "data/deid/basic_profile.tsv")
PLANTED = [PATIENT_NAME, PATIENT_NAME.split("^")[0], PATIENT_ID, PRIVATE_TEXT, "Phi1", "Nested"]


@pytest.fixture()
def tree(tmp_path):
    root = tmp_path / "in"
    study = new_uid()
    for i in range(3):
        make_file(root / f"f{i}.dcm", TABLE, study_uid=study, series_uid=new_uid(), sop_uid=new_uid())
    key = tmp_path / "key.bin"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    return root, key


def assert_one_line_error(r, *needles):
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("medtrain: error: "), r.stderr
    for n in needles:
        assert str(n) in lines[0], (n, lines[0])
    return lines[0]


def test_non_dicom_file_fails_or_is_skipped(tree, tmp_path):
    root, key = tree
    (root / "notes.dcm").write_text("this is not DICOM")
    before = tree_hash(root)
    r = run("deid", "--in", root, "--out", tmp_path / "o1", "--key-file", key, "--jobs", 1)
    # Named by its input id (input paths often hold patient names), not by its path...
    line = assert_one_line_error(r, "input ", "(see deid_audit.jsonl)", "not a DICOM", "--on-error skip")
    assert "notes.dcm" not in line
    # ...unless the operator asks for paths.
    r = run("deid", "--in", root, "--out", tmp_path / "o1b", "--key-file", key, "--jobs", 1, "--show-paths")
    assert_one_line_error(r, root / "notes.dcm", "not a DICOM", "--on-error skip")
    r = run("deid", "--in", root, "--out", tmp_path / "o2", "--key-file", key, "--on-error", "skip")
    assert r.returncode == 0, r.stderr
    assert "skipped input " in r.stderr and "not a DICOM" in r.stderr and "notes.dcm" not in r.stderr
    assert len(list((tmp_path / "o2").rglob("*.dcm"))) == 3
    assert "1 failed" in r.stdout
    assert tree_hash(root) == before


def test_truncated_dicom_is_reported(tree, tmp_path):
    root, key = tree
    data = (root / "f0.dcm").read_bytes()
    (root / "cut.dcm").write_bytes(data[: len(data) // 2])
    before = tree_hash(root)
    r = run("deid", "--in", root, "--out", tmp_path / "o", "--key-file", key, "--jobs", 1, "--show-paths")
    assert_one_line_error(r, root / "cut.dcm")
    assert tree_hash(root) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tree, tmp_path):
    root, key = tree
    (root / "f1.dcm").chmod(0)
    before = tree_hash(root)
    r = run("deid", "--in", root, "--out", tmp_path / "o", "--key-file", key, "--show-paths")
    assert_one_line_error(r, root / "f1.dcm")
    assert tree_hash(root) == before


def test_output_inside_input(tree):
    root, key = tree
    before = tree_hash(root)
    r = run("deid", "--in", root, "--out", root / "sub" / "out", "--key-file", key)
    assert_one_line_error(r, "inside", root)
    assert tree_hash(root) == before and not (root / "sub").exists()


def test_key_file_missing_or_shared(tree, tmp_path):
    root, key = tree
    before = tree_hash(root)
    r = run("deid", "--in", root, "--out", tmp_path / "o", "--key-file", tmp_path / "nokey")
    assert_one_line_error(r, tmp_path / "nokey")
    key.chmod(0o644)
    r = run("deid", "--in", root, "--out", tmp_path / "o", "--key-file", key)
    line = assert_one_line_error(r, key, f"chmod 600 {key}")
    assert key.read_bytes().hex() not in line
    r = run("deid", "--in", root, "--out", tmp_path / "o", "--key-file", key, "--options", "full-dates")
    assert r.returncode == 2 and "full-dates" in r.stderr
    r = run("deid", "--in", root, "--out", tmp_path / "o")
    assert_one_line_error(r, "--key-file")
    r = run("deid", "--in", tmp_path / "nowhere", "--out", tmp_path / "o", "--key-file", key)
    assert_one_line_error(r, tmp_path / "nowhere", "not a folder")
    assert tree_hash(root) == before
    assert not (tmp_path / "o").exists(), "nothing is created before the key is accepted"


def test_no_phi_in_anything_the_tool_writes(tree, tmp_path):
    root, key = tree
    (root / "junk.dcm").write_text("junk")
    shutil.copy(root / "f0.dcm", root / "duplicate.dcm")
    out = tmp_path / "out"
    texts = []
    for i, extra in enumerate(([], ["--options", "long-modified-dates,clean-descriptors,patient-characteristics"])):
        if i:
            (out / "deid_audit.jsonl").rename(out / "first_audit.jsonl")  # so that this run rewrites every file
        r = run("deid", "--in", root, "--out", out, "--key-file", key, "--on-error", "skip", *extra)
        assert r.returncode == 0, r.stderr
        texts += [r.stdout, r.stderr]
    r = run("deid", "--in", root, "--out", tmp_path / "o2", "--key-file", key)  # fails on junk
    texts += [r.stdout, r.stderr]
    r = run("deid", "--verify", out)
    texts += [r.stdout, r.stderr]
    source = (root / "f0.dcm").read_bytes()
    assert all(n.encode() in source for n in PLANTED), "the corpus must carry every planted value"
    blobs = [t.encode() for t in texts] + [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    assert any(p.suffix == ".jsonl" for p in out.rglob("*"))
    for needle in PLANTED:
        for blob in blobs:
            assert needle.encode() not in blob, f"{needle!r} leaked"
        assert needle not in str(list(out.rglob("*"))), f"{needle!r} in an output path"


def test_verify_finds_planted_files(tree, tmp_path):
    root, key = tree
    out = tmp_path / "out"
    assert run("deid", "--in", root, "--out", out, "--key-file", key).returncode == 0
    r = run("deid", "--verify", out)
    assert r.returncode == 0 and "0 of 3" in r.stdout, r.stdout + r.stderr
    shutil.copy(root / "f1.dcm", out / "planted.dcm")
    r = run("deid", "--verify", out)
    assert r.returncode != 0
    assert f"{out / 'planted.dcm'}: Patient Identity Removed (0012,0062)" in r.stdout
    assert PATIENT_NAME not in r.stdout
    # A de-identified file in which a removed attribute reappears, deep in a sequence.
    import pydicom
    victim = next(p for p in out.rglob("*.dcm") if p.name != "planted.dcm")
    ds = pydicom.dcmread(victim)
    ds.DerivationCodeSequence[0].PatientBirthName = "Leaked^Name"
    ds.save_as(victim)
    r = run("deid", "--verify", out)
    assert "(0010,1005)" in r.stdout and "2 of 4" in r.stdout and "Leaked" not in r.stdout
