"""`medtrain deid` never loses, overwrites or misplaces a file: duplicates and UID
collisions (one output per input, counts equal to the files on disk, --verify
reads the audit), DICOMDIR / encapsulated documents / SR, sequences nested too
deep for DCMTK, links planted in --out, temporary files of an interrupted run,
two runs into one folder, input paths kept out of messages. Inputs are written
with pydicom (tests/data/deid/deid_reference.py); expected ids and pseudonyms are
recomputed here with Python's hmac; outputs are read back with pydicom."""
import fcntl
import hashlib
import json
import os
import shutil
import sys

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from conftest import SOURCE, run

sys.path.insert(0, str(SOURCE / "tests/data/deid"))
from deid_reference import (PATIENT_ID, PATIENT_NAME, deep_nesting_bytes, keyed, load_table, make_file,  # noqa: E402
                            new_uid, pseudonym, read, tree_hash)

TABLE, _ = load_table(SOURCE / "data/deid/basic_profile.tsv")
KEY = b"integrity-test-key-0123456789abcdef"


def key_file(tmp_path):
    path = tmp_path / "key.bin"
    path.write_bytes(KEY)
    path.chmod(0o600)
    return path


def input_id(rel):
    return keyed(KEY, "path", rel)[:16].hex()


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def deid(inp, out, key, *extra, ok=True):
    r = run("deid", "--in", inp, "--out", out, "--key-file", key, "--jobs", 4, *extra, timeout=300)
    if ok:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def audit(out):
    return [json.loads(line) for line in (out / "deid_audit.jsonl").read_text().splitlines() if line]


def summary(out):
    return json.loads((out / "deid_summary.json").read_text())


def outputs(out):
    return sorted(p for p in out.rglob("*.dcm"))


def assert_one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("medtrain: error: "), r.stderr
    for n in needles:
        assert str(n) in lines[0], (n, lines[0])
    return lines[0]


def small(path, sop_uid, **kw):
    return make_file(path, TABLE, study_uid=kw.pop("study_uid", "1.2.826.0.1.3680043.10.543.1"),
                     series_uid=kw.pop("series_uid", "1.2.826.0.1.3680043.10.543.2"), sop_uid=sop_uid,
                     fill_table=False, **kw)


def variant(src, dst, seed):
    """The same object (same SOP Instance UID) with other content."""
    ds = pydicom.dcmread(src)
    ds.SeriesDescription = f"variant {seed}"
    ds.PixelData = bytes((seed + k) % 256 for k in range(len(ds.PixelData)))
    dst.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(dst, enforce_file_format=True)


# ---------------------------------------------------------------- duplicates and collisions

def test_identical_inputs_are_written_once_and_counted(tmp_path):
    root = tmp_path / "in"
    small(root / "a.dcm", new_uid())
    small(root / "b.dcm", new_uid())
    for name in ("copy1.dcm", "sub/copy2.dcm"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / "a.dcm", root / name)
    out = tmp_path / "out"
    deid(root, out, key_file(tmp_path))
    s = summary(out)
    assert (s["files"], s["written"], s["duplicates"], s["quarantined"]) == (4, 2, 2, 0), s
    assert len(outputs(out)) == s["written"] + s["resumed"] == 2
    same = [r for r in audit(out) if r["input_sha256"] == sha(root / "a.dcm")]
    assert sorted(r["status"] for r in same) == ["duplicate", "duplicate", "ok"]
    first = next(r for r in same if r["status"] == "ok")
    assert first["input_id"] in {input_id(n) for n in ("a.dcm", "copy1.dcm", "sub/copy2.dcm")}
    for r in same:
        if r["status"] == "duplicate":
            assert r["duplicate_of"] == first["input_id"] and r["output"] == first["output"]
    assert run("deid", "--verify", out).returncode == 0


def test_same_uid_other_content_is_quarantined_race_free(tmp_path):
    root = tmp_path / "in"
    uid = new_uid()
    small(root / "p00.dcm", uid)
    for i in range(1, 12):  # 12 different objects claiming one UID, on 4 threads
        variant(root / "p00.dcm", root / f"p{i:02d}.dcm", i)
    small(root / "other.dcm", new_uid())
    out = tmp_path / "out"
    before = tree_hash(root)
    r = deid(root, out, key_file(tmp_path))
    assert tree_hash(root) == before
    s = summary(out)
    assert (s["written"], s["quarantined"], s["duplicates"]) == (2, 11, 0), s
    assert len(outputs(out)) == 2
    records = audit(out)
    kept = [x for x in records if x["status"] == "ok" and x["output"].endswith(
        f"{'2.25.' + str(int.from_bytes(keyed(KEY, 'uid', uid)[:16], 'big'))}.dcm")]
    assert len(kept) == 1
    held = [x for x in records if x["status"] == "quarantined"]
    assert len(held) == 11 and all(x["collides_with"] == kept[0]["input_id"] for x in held)
    assert all(kept[0]["input_id"] in x["reason"] for x in held)
    # The quarantine is a sibling of --out, holds each original byte for byte, by input id.
    q = tmp_path / "out.quarantine"
    by_id = {input_id(f"p{i:02d}.dcm"): root / f"p{i:02d}.dcm" for i in range(12)}
    for x in held:
        assert (q / f"{x['input_id']}.dcm").read_bytes() == by_id[x["input_id"]].read_bytes()
    qlog = [json.loads(line) for line in (q / "quarantine.jsonl").read_text().splitlines()]
    assert sorted(x["input_path"] for x in qlog) == sorted(by_id[x["input_id"]].name for x in held)
    assert "quarantined input" in r.stderr and PATIENT_NAME not in r.stderr
    # The one output is the first claimant's, whole.
    got = out / kept[0]["output"]
    assert sha(by_id[kept[0]["input_id"]]) == kept[0]["input_sha256"] and sha(got) == kept[0]["output_sha256"]
    assert read(got).PatientIdentityRemoved == "YES"
    assert run("deid", "--verify", out).returncode == 0
    assert not list(out.rglob("*quarantine*"))


def test_collision_with_an_earlier_runs_output(tmp_path):
    root = tmp_path / "in"
    uid = new_uid()
    small(root / "a.dcm", uid)
    key = key_file(tmp_path)
    out = tmp_path / "out"
    deid(root, out, key)
    first = outputs(out)[0].read_bytes()
    variant(root / "a.dcm", root / "b.dcm", 7)   # a new input, same UID, other content
    shutil.copy(root / "a.dcm", root / "c.dcm")  # a new input identical to a.dcm
    deid(root, out, key)
    s = summary(out)
    assert (s["resumed"], s["written"], s["quarantined"], s["duplicates"]) == (1, 0, 1, 1), s
    assert outputs(out)[0].read_bytes() == first, "the earlier output was overwritten"
    assert len(outputs(out)) == s["written"] + s["resumed"]
    latest = {r["input_id"]: r for r in audit(out)}
    assert latest[input_id("b.dcm")]["status"] == "quarantined"
    assert latest[input_id("b.dcm")]["collides_with"] == input_id("a.dcm")
    assert latest[input_id("c.dcm")]["status"] == "duplicate"
    assert latest[input_id("c.dcm")]["duplicate_of"] == input_id("a.dcm")


def test_counts_equal_files_on_disk(tmp_path):
    """After a run into a fresh --out, the .dcm files under --out are exactly
    `written` of them; after a re-run with the same key, exactly `resumed`."""
    root = tmp_path / "in"
    uid = new_uid()
    small(root / "x0.dcm", uid)
    variant(root / "x0.dcm", root / "x1.dcm", 3)
    for i in range(6):
        small(root / f"u{i}.dcm", new_uid())
    shutil.copy(root / "u0.dcm", root / "u0_copy.dcm")
    (root / "junk.dcm").write_text("not dicom")
    out = tmp_path / "out"
    key = key_file(tmp_path)
    deid(root, out, key, "--on-error", "skip")
    s = summary(out)
    assert s["files"] == 10 and s["failed"] == 1 and s["duplicates"] == 1 and s["quarantined"] == 1
    assert s["written"] + s["duplicates"] + s["quarantined"] + s["failed"] == s["files"]
    assert len(outputs(out)) == s["written"] == 7
    deid(root, out, key, "--on-error", "skip")
    s = summary(out)
    assert s["written"] == 0 and len(outputs(out)) == s["resumed"] == 7, s


def test_verify_fails_when_two_inputs_name_one_output(tmp_path):
    root = tmp_path / "in"
    small(root / "a.dcm", new_uid())
    out = tmp_path / "out"
    deid(root, out, key_file(tmp_path))
    assert run("deid", "--verify", out).returncode == 0
    rec = audit(out)[0]
    forged = dict(rec, input_id="f" * 32, input_sha256="0" * 64)  # what the old runner wrote for a collision
    with open(out / "deid_audit.jsonl", "a") as f:
        f.write(json.dumps(forged) + "\n")
    r = run("deid", "--verify", out)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = [line for line in r.stdout.splitlines() if line.startswith(f"{out / 'deid_audit.jsonl'}: ")]
    assert len(lines) == 1 and rec["output"] in lines[0] and "f" * 32 in lines[0] and rec["input_id"] in lines[0]
    # The input's own later record (a re-run) does not count as a second input.
    with open(out / "deid_audit.jsonl", "a") as f:
        f.write(json.dumps(dict(forged, status="quarantined")) + "\n")
        f.write(json.dumps(rec) + "\n")
    assert run("deid", "--verify", out).returncode == 0


# ---------------------------------------------------------------- DICOMDIR, encapsulated documents, SR

def part10(path, ds, sop_class):
    ds.SOPClassUID = sop_class
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = ds.get("SOPInstanceUID", new_uid())
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def test_dicomdir_is_dropped_and_counted(tmp_path):
    root = tmp_path / "in"
    small(root / "img.dcm", new_uid())
    for name in ("DICOMDIR", "media/index.dat"):
        ds = Dataset()
        ds.FileSetID = "STUDY"
        ds.PatientName = PATIENT_NAME  # DICOMDIR records carry names
        ds.SOPInstanceUID = new_uid()
        part10(root / name, ds, "1.2.840.10008.1.3.10")
    out = tmp_path / "out"
    r = deid(root, out, key_file(tmp_path))
    s = summary(out)
    assert s["dropped_dicomdir"] == 2 and s["written"] == 1 and s["failed"] == 0, s
    assert len(outputs(out)) == 1 and not [p for p in out.rglob("*") if "DICOMDIR" in p.name]
    assert sorted(r["status"] for r in audit(out)) == ["dropped_dicomdir", "dropped_dicomdir", "ok"]
    assert "dropped input" in r.stderr and "DICOMDIR" in r.stderr


def pdf_file(path, sop_uid):
    ds = Dataset()
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = new_uid(), new_uid()
    ds.PatientName, ds.PatientID = PATIENT_NAME, PATIENT_ID
    ds.Modality = "DOC"
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = b"%PDF-1.4 Report for " + PATIENT_NAME.encode() + b" %%EOF\n"
    part10(path, ds, "1.2.840.10008.5.1.4.1.1.104.1")


def test_encapsulated_pdf_is_quarantined_unless_allowed(tmp_path):
    root = tmp_path / "in"
    pdf_file(root / "report.dcm", new_uid())
    small(root / "img.dcm", new_uid())
    key = key_file(tmp_path)
    out = tmp_path / "out"
    r = deid(root, out, key, "--quarantine", tmp_path / "held")
    s = summary(out)
    assert s["quarantined"] == 1 and s["written"] == 1, s
    rec = next(x for x in audit(out) if x["status"] == "quarantined")
    assert "encapsulated document" in rec["reason"]
    assert (tmp_path / "held" / f"{input_id('report.dcm')}.dcm").read_bytes() == (root / "report.dcm").read_bytes()
    assert not (tmp_path / "out.quarantine").exists()
    for p in out.rglob("*"):
        if p.is_file():
            assert PATIENT_NAME.encode() not in p.read_bytes()
    assert "(see deid_audit.jsonl)" in r.stderr
    # Allowed: through the profile, which empties the document (0042,0011 is D on binary data).
    out2 = tmp_path / "out2"
    deid(root, out2, key, "--allow-encapsulated")
    assert summary(out2)["written"] == 2 and summary(out2)["quarantined"] == 0
    docs = [read(p) for p in outputs(out2) if read(p).SOPClassUID == "1.2.840.10008.5.1.4.1.1.104.1"]
    assert len(docs) == 1 and PATIENT_NAME.encode() not in bytes(docs[0].EncapsulatedDocument or b"")
    assert any(x.get("encapsulated_document") == "allowed by --allow-encapsulated" for x in audit(out2))


def test_structured_report_text_does_not_survive(tmp_path):
    root = tmp_path / "in"
    ds = Dataset()
    ds.SOPInstanceUID = new_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = new_uid(), new_uid()
    ds.PatientName, ds.PatientID = PATIENT_NAME, PATIENT_ID
    ds.Modality = "SR"
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", "TEXT"
    item.TextValue = f"Findings discussed with {PATIENT_NAME.replace('^', ' ')} (MRN {PATIENT_ID})."
    pname = Dataset()
    pname.RelationshipType, pname.ValueType = "HAS OBS CONTEXT", "PNAME"
    pname.PersonName = PATIENT_NAME
    ds.ValueType = "CONTAINER"
    ds.ContentSequence = Sequence([item, pname])
    part10(root / "sr.dcm", ds, "1.2.840.10008.5.1.4.1.1.88.11")
    out = tmp_path / "out"
    deid(root, out, key_file(tmp_path))
    (p,) = outputs(out)
    data = p.read_bytes()
    for needle in (PATIENT_NAME, PATIENT_NAME.split("^")[0], PATIENT_ID):
        assert needle.encode() not in data, needle
    assert read(p).PatientIdentityRemoved == "YES"
    assert run("deid", "--verify", out).returncode == 0


# ---------------------------------------------------------------- nesting too deep for DCMTK

@pytest.fixture()
def deep_tree(tmp_path):
    root = tmp_path / "in"
    small(root / "fine.dcm", new_uid())
    (root / "deep.dcm").write_bytes(deep_nesting_bytes(10000))
    return root


def test_deep_nesting_is_a_data_error_everywhere(deep_tree, tmp_path):
    # The reference: pydicom reads the structure we claim (a few levels, then cut).
    head = deep_nesting_bytes(12)
    ds = pydicom.dcmread(__import__("io").BytesIO(head))
    depth = 0
    while "ContentSequence" in ds:
        ds, depth = ds.ContentSequence[0], depth + 1
    assert depth == 12
    assert len((deep_tree / "deep.dcm").read_bytes()) > 200_000
    key = key_file(tmp_path)
    r = deid(deep_tree, tmp_path / "o1", key, ok=False)  # on-error fail
    assert_one_line_error(r, "nested more than 64 levels", "--on-error skip")
    out = tmp_path / "o2"
    r = deid(deep_tree, out, key, "--on-error", "skip")
    assert "nested more than 64 levels" in r.stderr and summary(out)["failed"] == 1 and len(outputs(out)) == 1
    shutil.copy(deep_tree / "deep.dcm", out / "planted.dcm")
    r = run("deid", "--verify", out)
    assert r.returncode == 1 and "planted.dcm: sequences nested more than 64 levels" in r.stdout, r.stdout + r.stderr
    r = run("inspect", deep_tree / "deep.dcm")
    assert_one_line_error(r, "deep.dcm", "nested more than 64 levels")
    (deep_tree / "d2.dcm").write_bytes(deep_nesting_bytes(100000, deflated=True))
    r = run("inspect", deep_tree / "d2.dcm")
    assert_one_line_error(r, "d2.dcm", "nested more than 64 levels")


# ---------------------------------------------------------------- links inside --out

def test_audit_log_link_is_refused(tmp_path):
    root = tmp_path / "in"
    small(root / "a.dcm", new_uid())
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (out / "deid_audit.jsonl").symlink_to(victim)
    r = deid(root, out, key_file(tmp_path), ok=False)
    assert_one_line_error(r, "deid_audit.jsonl", "link")
    assert victim.read_text() == "precious\n"
    assert not outputs(out)


def test_pseudonym_folder_link_is_refused(tmp_path):
    root = tmp_path / "in"
    small(root / "a.dcm", new_uid())
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / pseudonym(KEY, PATIENT_ID)).symlink_to(elsewhere, target_is_directory=True)
    for extra in ([], ["--on-error", "skip"]):  # an output problem ends the run either way
        r = deid(root, out, key_file(tmp_path), *extra, ok=False)
        assert_one_line_error(r, pseudonym(KEY, PATIENT_ID), "link")
        assert not list(elsewhere.rglob("*")), "written through the link"


# ---------------------------------------------------------------- interrupted runs, locks

def test_temp_files_of_an_interrupted_run(tmp_path):
    root = tmp_path / "in"
    small(root / "a.dcm", new_uid())
    small(root / "b.dcm", new_uid())
    out = tmp_path / "out"
    key = key_file(tmp_path)
    deid(root, out, key)
    target = outputs(out)[0]
    stale = target.parent / (target.name + ".tmp-4242-0")  # what a kill between write and rename leaves
    stale.write_bytes(target.read_bytes()[:100])
    r = run("deid", "--verify", out)
    assert r.returncode == 1 and f"{stale}: interrupted write: re-run deid on this folder to clean it up" in r.stdout
    r = deid(root, out, key)
    assert not stale.exists() and summary(out)["temp_files_removed"] == 1
    assert summary(out)["resumed"] == 2 and "removed 1 temporary" in r.stdout
    assert run("deid", "--verify", out).returncode == 0


def test_second_run_into_a_locked_folder_fails_naming_the_holder(tmp_path):
    root = tmp_path / "in"
    small(root / "a.dcm", new_uid())
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".medtrain.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("medtrain deid (pid 4242)\n")
        lock.flush()
        r = deid(root, out, key_file(tmp_path), ok=False)
        assert_one_line_error(r, "pid 4242", str(out))
        assert not (out / "deid_audit.jsonl").exists() and not outputs(out)
    deid(root, out, key_file(tmp_path))  # the holder ended: the lock is free
    assert summary(out)["written"] == 1 and len(audit(out)) == 1


def test_quarantine_folder_must_be_outside_in_and_out(tmp_path):
    root = tmp_path / "in"
    small(root / "a.dcm", new_uid())
    key = key_file(tmp_path)
    for q in (tmp_path / "out" / "q", root / "q", tmp_path / "out"):
        r = deid(root, tmp_path / "out", key, "--quarantine", q, ok=False)
        assert_one_line_error(r, "--quarantine")
    assert not (root / "q").exists()


# ---------------------------------------------------------------- messages without input paths

def test_messages_name_input_ids_not_paths(tmp_path):
    root = tmp_path / "in"
    folder = root / "Xylophonia Quenby 1961"
    small(folder / "ok.dcm", new_uid())
    (folder / "junk.dcm").write_text("junk")
    key = key_file(tmp_path)
    r = deid(root, tmp_path / "o1", key, "--on-error", "skip")
    junk_id = input_id("Xylophonia Quenby 1961/junk.dcm")
    assert f"skipped input {junk_id} (see deid_audit.jsonl): not a DICOM Part 10 file" in r.stderr, r.stderr
    assert "Xylophonia" not in r.stderr + r.stdout
    r = deid(root, tmp_path / "o2", key, ok=False)
    line = assert_one_line_error(r, f"input {junk_id}", "not a DICOM")
    assert "Xylophonia" not in line
    r = deid(root, tmp_path / "o3", key, "--show-paths", ok=False)
    assert_one_line_error(r, str(folder / "junk.dcm"), "not a DICOM")


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_key_file_that_is_not_a_file(tmp_path, kind):
    root = tmp_path / "in"
    small(root / "a.dcm", new_uid())
    key = tmp_path / "fifo"
    if kind == "fifo":
        os.mkfifo(key, 0o600)
    else:
        key = "/dev/zero"
    r = run("deid", "--in", root, "--out", tmp_path / "out", "--key-file", key, timeout=60)
    assert_one_line_error(r, str(key), "expected a regular file")
    assert not (tmp_path / "out").exists()
