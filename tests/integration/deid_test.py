"""`medtrain deid` against an independent reading of the profile: a pydicom corpus in
which every attribute of data/deid/basic_profile.tsv is filled (nested sequences,
private tags), checked tag by tag with pydicom against the table parsed here, with
keyed values recomputed with Python's hmac. Plus consistency across files, runs and
keys, date shifting, resume and burned-in exclusion."""
import json
import os
import re
import sys

import pytest

from conftest import SOURCE, run

sys.path.insert(0, str(SOURCE / "tests/data/deid"))
from deid_reference import (ADDED_TAGS, PATIENT_ID, PATIENT_NAME, day_offset, load_table, make_file,  # noqa: E402
                            new_uid, pseudonym, read, remap_uid, resolve, shift_date, tree_hash)

TABLE, WILDCARD = load_table(SOURCE / "data/deid/basic_profile.tsv")
KEY = b"integration-test-key-\x00\x01\x02-0123456789"
UID_RE = re.compile(r"2\.25\.(0|[1-9][0-9]{0,38})$")


def empty(value):
    return value is None or str(value) == "" or (hasattr(value, "__len__") and len(value) == 0)


def key_file(tmp_path, name="key.bin", data=KEY):
    path = tmp_path / name
    path.write_bytes(data)
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("deid_in")
    study, series = new_uid(), new_uid()
    files = {
        "a": make_file(root / "patient dir/a.dcm", TABLE, study_uid=study, series_uid=series, sop_uid=new_uid()),
        "b": make_file(root / "patient dir/b.dcm", TABLE, study_uid=study, series_uid=series, sop_uid=new_uid()),
    }
    return root, files


def deid(inp, out, key, *extra):
    r = run("deid", "--in", inp, "--out", out, "--key-file", key, "--jobs", 2, *extra)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def audit(out):
    return [json.loads(line) for line in (out / "deid_audit.jsonl").read_text().splitlines()]


def outputs_by_input(out, key, inputs):
    """Output dataset of each input, found by the SOP Instance UID remapped here."""
    found = {}
    for name, ds in inputs.items():
        sop = remap_uid(key, ds.SOPInstanceUID)
        paths = list(out.rglob(f"{sop}.dcm"))
        assert len(paths) == 1, f"no single output for {name}: {paths}"
        found[name] = read(paths[0])
    return found


def check_sequence_items(tag, src_seq, out_seq, key):
    assert len(out_seq) == len(src_seq), f"{tag:08X}: items"
    for s, o in zip(src_seq, out_seq):
        assert o.ReferencedSOPInstanceUID == remap_uid(key, s.ReferencedSOPInstanceUID), f"{tag:08X} nested U"
        assert o.ReferencedSOPClassUID == s.ReferencedSOPClassUID, f"{tag:08X} nested class UID kept"
        assert str(o.OperatorsName) not in ("", str(s.OperatorsName)), f"{tag:08X} nested D"
        assert empty(o.PatientName), f"{tag:08X} nested Z"
        assert not any(e.tag.is_private for e in o), f"{tag:08X} nested private"
        inner_s, inner_o = s.ReferencedImageSequence[0], o.ReferencedImageSequence[0]
        assert inner_o.ReferencedSOPInstanceUID == remap_uid(key, inner_s.ReferencedSOPInstanceUID)
        assert empty(inner_o.ReferringPhysicianName)


def check_against_table(src, out, key, options):
    pid = src.PatientID
    offset = day_offset(key, pid)
    seen = 0
    for elem in src:
        tag = int(elem.tag)
        if elem.tag.is_private:
            assert tag not in out, f"private {tag:08X} kept"
            continue
        if tag in (0x00100010, 0x00100020):
            assert out[tag].value == pseudonym(key, pid)
            continue
        row = TABLE.get(tag)
        if row is None:
            if elem.VR == "SQ":
                check_sequence_items(tag, elem.value, out[tag].value, key)
            else:
                assert out[tag].value == elem.value, f"{tag:08X} not listed: must be unchanged"
            continue
        seen += 1
        action = resolve(row, options)
        where = f"{row['tag']} {row['name']} action {action}"
        if action == "X":
            assert tag not in out, where
        elif action == "Z":
            assert tag in out and empty(out[tag].value), where
        elif elem.VR == "SQ":
            check_sequence_items(tag, elem.value, out[tag].value, key)
        elif action == "K":
            assert out[tag].value == elem.value, where
        elif action == "U" or (action == "D" and elem.VR == "UI"):
            assert out[tag].value == remap_uid(key, elem.value), where
            assert UID_RE.match(out[tag].value) and len(out[tag].value) <= 64, where
        elif action == "D":
            assert tag in out and not empty(out[tag].value) and out[tag].value != elem.value, where
        elif action == "C" and elem.VR in ("DA", "DT"):
            assert out[tag].value == shift_date(str(elem.value), offset), where
        elif action == "C" and elem.VR == "TM":
            assert out[tag].value == elem.value, where
        elif action == "C":
            text = str(out[tag].value)
            assert "Xylophonia" not in text and PATIENT_ID not in text, where
        else:
            pytest.fail(f"unexpected action {where}")
    assert seen > 400, f"only {seen} table attributes in the corpus"
    extra = {int(e.tag) for e in out} - {int(e.tag) for e in src}
    assert extra <= ADDED_TAGS, f"unexpected new tags {sorted(hex(t) for t in extra - ADDED_TAGS)}"
    assert out.PixelData == src.PixelData
    assert out.PatientIdentityRemoved == "YES"
    codes = [item.CodeValue for item in out.DeidentificationMethodCodeSequence]
    expected = {"long-modified-dates": "113107", "patient-characteristics": "113108", "device-identity": "113109",
                "clean-descriptors": "113105"}
    # 113101 Clean Pixel Data: the corpus is Secondary Capture, OCR-checked under the default --pixels clean.
    assert codes == ["113100"] + [expected[o] for o in expected if o in options] + ["113101"]
    assert all(i.CodingSchemeDesignator == "DCM" for i in out.DeidentificationMethodCodeSequence)
    assert out.LongitudinalTemporalInformationModified == ("MODIFIED" if "long-modified-dates" in options else "REMOVED")
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID


@pytest.mark.parametrize("options", [[], ["long-modified-dates", "patient-characteristics", "device-identity",
                                           "clean-descriptors"]])
def test_every_tag_gets_its_action(corpus, tmp_path, options):
    root, files = corpus
    before = tree_hash(root)
    out = tmp_path / "out"
    extra = ["--options", ",".join(options)] if options else []
    deid(root, out, key_file(tmp_path), *extra)
    assert tree_hash(root) == before, "input tree modified"
    for name, got in outputs_by_input(out, KEY, files).items():
        check_against_table(read_input(root, name), got, KEY, options)
    records = audit(out)
    assert len(records) == 2 and all(r["status"] == "ok" for r in records)
    for r in records:
        assert r["pseudonym"] == pseudonym(KEY, PATIENT_ID)
        assert r["options"] == options and r["tool_version"] and r["profile"] == "basic"
        assert r["actions"]["(0010,1010)"] == ("K" if "patient-characteristics" in options else "X")
        assert len(r["input_sha256"]) == 64 and len(r["output_sha256"]) == 64
    summary = json.loads((out / "deid_summary.json").read_text())
    assert summary["written"] == 2 and summary["failed"] == 0


def read_input(root, name):
    return read(root / "patient dir" / f"{name}.dcm")


def test_consistency_across_files_runs_and_keys(corpus, tmp_path):
    root, files = corpus
    k1, k2 = key_file(tmp_path, "k1"), key_file(tmp_path, "k2", b"a-completely-different-key-0000")
    deid(root, tmp_path / "o1", k1)
    deid(root, tmp_path / "o2", k1)
    deid(root, tmp_path / "o3", k2)
    o1 = outputs_by_input(tmp_path / "o1", KEY, files)
    assert o1["a"].StudyInstanceUID == o1["b"].StudyInstanceUID == remap_uid(KEY, files["a"].StudyInstanceUID)
    assert o1["a"].SOPInstanceUID != o1["b"].SOPInstanceUID
    o2 = outputs_by_input(tmp_path / "o2", KEY, files)
    assert o2["a"].PatientID == o1["a"].PatientID == o1["b"].PatientID
    o3 = outputs_by_input(tmp_path / "o3", b"a-completely-different-key-0000", files)
    assert o3["a"].PatientID != o1["a"].PatientID
    assert o3["a"].StudyInstanceUID != o1["a"].StudyInstanceUID


def test_date_shift_keeps_intervals(tmp_path):
    root = tmp_path / "in"
    study = new_uid()
    dates = [("20200115", "20200229T"), ("20211231", "")]
    for i, (d, _) in enumerate(dates):
        make_file(root / f"s{i}.dcm", TABLE, study_uid=study, series_uid=new_uid(), sop_uid=new_uid(), fill_table=False,
                  dates={"StudyDate": d, "AcquisitionDateTime": d + "093000.25-0500", "StudyTime": "093000"})
    out = tmp_path / "out"
    deid(root, out, key_file(tmp_path), "--options", "long-modified-dates")
    got = sorted((read(p) for p in out.rglob("*.dcm")), key=lambda ds: ds.StudyDate)
    import datetime as dt
    day = lambda s: dt.date(int(s[:4]), int(s[4:6]), int(s[6:8]))  # noqa: E731
    assert (day(got[1].StudyDate) - day(got[0].StudyDate)) == (day("20211231") - day("20200115"))
    off = day_offset(KEY, PATIENT_ID)
    assert got[0].StudyDate == shift_date("20200115", off) and off < 0
    assert got[0].AcquisitionDateTime == shift_date("20200115", off) + "093000.25-0500"
    assert got[0].StudyTime == "093000"


def test_resume_skips_done_files_and_redoes_damaged(corpus, tmp_path):
    root, files = corpus
    key = key_file(tmp_path)
    out = tmp_path / "out"
    deid(root, out, key)
    outputs = sorted(out.rglob("*.dcm"))
    mtimes = [p.stat().st_mtime_ns for p in outputs]
    r = deid(root, out, key)
    summary = json.loads((out / "deid_summary.json").read_text())
    assert summary["resumed"] == 2 and summary["written"] == 0, r.stdout
    assert [p.stat().st_mtime_ns for p in outputs] == mtimes
    outputs[0].write_bytes(outputs[0].read_bytes()[:-10])  # damaged: hash no longer matches
    deid(root, out, key)
    summary = json.loads((out / "deid_summary.json").read_text())
    assert summary["resumed"] == 1 and summary["written"] == 1
    assert read(outputs[0]).PixelData  # rewritten whole
    # Other settings (options, key) make other outputs: nothing is taken as done.
    deid(root, out, key, "--options", "patient-characteristics")
    summary = json.loads((out / "deid_summary.json").read_text())
    assert summary["resumed"] == 0 and summary["written"] == 2
    assert not list(out.rglob("*.tmp-*")), "temp files left behind"


def test_burned_in_excluded_unless_allowed(tmp_path):
    root = tmp_path / "in"
    make_file(root / "burned.dcm", TABLE, study_uid=new_uid(), series_uid=new_uid(), sop_uid=new_uid(),
              fill_table=False, burned_in="YES")
    make_file(root / "clean.dcm", TABLE, study_uid=new_uid(), series_uid=new_uid(), sop_uid=new_uid(),
              fill_table=False, burned_in="NO")
    key = key_file(tmp_path)
    r = deid(root, tmp_path / "o1", key)
    assert "excluded input " in r.stderr and "(0028,0301)" in r.stderr and "burned.dcm" not in r.stderr
    assert len(list((tmp_path / "o1").rglob("*.dcm"))) == 1
    statuses = sorted(rec["status"] for rec in audit(tmp_path / "o1"))
    assert statuses == ["excluded_burned_in", "ok"]
    deid(root, tmp_path / "o2", key, "--allow-burned-in")
    assert len(list((tmp_path / "o2").rglob("*.dcm"))) == 2
    assert any("allowed" in rec.get("burned_in_annotation", "") for rec in audit(tmp_path / "o2"))


def test_compressed_pixel_data_is_bit_identical(tmp_path):
    demo = tmp_path / "demo"
    r = run("demo-data", "--out", demo, "--count", 6, "--patients", 2, "--size", 32)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    deid(demo / "images" if (demo / "images").is_dir() else demo, out, key_file(tmp_path), "--on-error", "skip")
    sources = {str(ds.SOPInstanceUID): ds for ds in (read(p) for p in demo.rglob("*.dcm"))}
    syntaxes = set()
    for p in out.rglob("*.dcm"):
        got = read(p)
        src = next(s for uid, s in sources.items() if remap_uid(KEY, uid) == got.SOPInstanceUID)
        assert got.file_meta.TransferSyntaxUID == src.file_meta.TransferSyntaxUID
        assert got.PixelData == src.PixelData
        syntaxes.add(str(got.file_meta.TransferSyntaxUID))
    assert len(syntaxes) >= 2, syntaxes  # encapsulated (JPEG-LS, RLE) and native


def test_keep_private_allow_list(corpus, tmp_path):
    root, files = corpus
    out = tmp_path / "out"
    deid(root, out, key_file(tmp_path), "--keep-private", "0011,1001")
    got = outputs_by_input(out, KEY, files)["a"]
    assert got[0x00111001].value == files["a"][0x00111001].value
    assert got[0x00110010].value == "ACME 1.0"  # its private creator stays with it
    assert 0x00130010 not in got.DerivationCodeSequence[0]  # not listed: removed, at depth too
    r = run("deid", "--verify", out)
    assert r.returncode == 1 and "private tag (0011,1001)" in r.stdout
    r = run("deid", "--verify", out, "--keep-private", "0011,1001")
    assert r.returncode == 0, r.stdout
    r = run("deid", "--in", root, "--out", tmp_path / "o2", "--key-file", key_file(tmp_path), "--keep-private", "0010,0010")
    assert r.returncode == 2 and "0010,0010" in r.stderr and "odd group" in r.stderr
