"""Burned-in text (issue 20): `medtrain deid` on images made here with Pillow + pydicom
(tests/data/deid/burned_in_reference.py) that carry the patient's name, IDs, dates
and institution in their pixels. Checked against independent references:
pytesseract must read the planted strings in the input and none of them in the
output; every PHI glyph pixel Pillow drew must be black; every pixel outside the
boxes the audit names must equal pydicom's decode of the input. Plus the policy
(not at risk, quarantine, off), the region rules, bad input, and --verify."""
import json
import sys

import numpy as np
import pydicom
import pytest

from conftest import SOURCE, assert_user_error, run

sys.path.insert(0, str(SOURCE / "tests/data/deid"))
import burned_in_reference as ref  # noqa: E402
from deid_reference import remap_uid  # noqa: E402

KEY = b"pixels-test-key-\x00\x01-0123456789abcdef"
REGIONS = SOURCE / "configs/deid/pixel_regions.yaml"
AT_RISK = ["us", "us_jpeg", "ct16", "bright_rle", "cine", "rule", "document"]
CINE_FRAMES_TO_READ = (0, 7)  # the header changes at frame 7


def key_file(tmp_path):
    path = tmp_path / "key.bin"
    path.write_bytes(KEY)
    path.chmod(0o600)
    return path


def audit(out):
    return [json.loads(line) for line in (out / "deid_audit.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """name -> (input path, dataset, Planted)."""
    root = tmp_path_factory.mktemp("px_in")
    makers = {
        "us": ("a/us.dcm", ref.rgb_us),
        "us_jpeg": ("a/us_jpeg.dcm", lambda p: ref.rgb_us(p, seed=7, jpeg=True)),
        "ct16": ("b/ct16.dcm", ref.ct_sc16),
        "bright_rle": ("b/rle.dcm", ref.grey8_bright_rle),
        "cine": ("c/cine.dcm", ref.cine),
        "rule": ("c/rule.dcm", ref.rule_device),
        "plain": ("c/plain.dcm", ref.ct_not_at_risk),
        "document": ("d/document.dcm", ref.document_sc),  # text in the middle: the whole-image pass
    }
    made = {}
    for name, (rel, make) in makers.items():
        made[name] = (root / rel, *make(root / rel))
    return root, made


def outputs(out, made):
    """name -> (output dataset, audit record), found by the remapped SOP Instance UID."""
    by_output = {rec["output"].rsplit("/", 1)[-1]: rec for rec in audit(out) if rec.get("status") == "ok"}
    found = {}
    for name, (_, ds, _) in made.items():
        sop = remap_uid(KEY, ds.SOPInstanceUID)
        if f"{sop}.dcm" in by_output:
            found[name] = (pydicom.dcmread(out / by_output[f"{sop}.dcm"]["output"]), by_output[f"{sop}.dcm"])
    return found


@pytest.fixture(scope="module")
def cleaned(corpus, tmp_path_factory):
    root, made = corpus
    tmp = tmp_path_factory.mktemp("px_out")
    out = tmp / "out"
    r = run("deid", "--in", root, "--out", out, "--key-file", key_file(tmp), "--jobs", 2, "--pixel-regions", REGIONS)
    assert r.returncode == 0, r.stdout + r.stderr
    return out, outputs(out, made), r


def frames_of(name):
    return CINE_FRAMES_TO_READ if name == "cine" else (0,)


def box_mask(record, shape):
    mask = np.zeros(shape, bool)
    for frame, x, y, w, h in record["pixels"]["boxes"]:
        assert frame == "all"
        mask[y:y + h, x:x + w] = True
    return mask


def test_every_at_risk_file_is_written_and_cleaned(corpus, cleaned):
    _, made = corpus
    out, found, r = cleaned
    assert sorted(found) == sorted(made), r.stdout + r.stderr
    for name in AT_RISK:
        out_ds, rec = found[name]
        assert rec["pixels"]["status"] == "cleaned", (name, rec["pixels"])
        assert rec["pixels"]["matches"], name
        assert out_ds.BurnedInAnnotation == "NO", name
        assert "113101" in [i.CodeValue for i in out_ds.DeidentificationMethodCodeSequence], name
        assert "Clean Pixel Data Option" in list(out_ds.DeidentificationMethod), name
        # Cleaned pixels are written uncompressed (docs/deid.md says why).
        assert out_ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian, name


@pytest.mark.parametrize("name", AT_RISK)
def test_pytesseract_reads_the_planted_text_before_and_none_after(corpus, cleaned, name):
    _, made = corpus
    path, _, planted = made[name]
    out_ds = cleaned[1][name][0]
    tokens = ref.planted_tokens(planted.phi)
    bands = ref.ink_bands(planted.ink)
    before = ref.leaked(tokens, ref.ocr_tokens(pydicom.dcmread(path), frames_of(name), bands=bands))
    if name != "rule":  # the rule's 7 px footer is there because OCR may not read it
        assert before, f"{name}: the reference OCR reads nothing planted in the input; the check below proves nothing"
    after = ref.leaked(tokens, ref.ocr_tokens(out_ds, frames_of(name), bands=bands))
    assert after == [], f"{name}: planted PHI still legible after deid: {len(after)} token(s)"


@pytest.mark.parametrize("name", AT_RISK)
def test_phi_ink_is_black_and_other_pixels_unchanged(corpus, cleaned, name):
    _, made = corpus
    path, src_ds, planted = made[name]
    out_ds, rec = cleaned[1][name]
    src = pydicom.dcmread(path).pixel_array
    got = out_ds.pixel_array
    assert got.shape == src.shape, name
    frames = int(getattr(src_ds, "NumberOfFrames", 1) or 1)
    rows, cols = src_ds.Rows, src_ds.Columns
    mask = box_mask(rec, (rows, cols))
    assert mask.mean() < 0.4, f"{name}: {mask.mean():.0%} of the image redacted"
    src_f = src.reshape(frames, rows, cols, -1).astype(np.int64)
    got_f = got.reshape(frames, rows, cols, -1).astype(np.int64)
    # Outside the boxes: the input's pixels. JPEG: DCMTK's libijg and pylibjpeg
    # upsample chroma differently (a few levels); a redaction would be far more.
    diff = np.abs(src_f - got_f)[:, ~mask]
    if name == "us_jpeg":
        assert diff.max(initial=0) <= 12 and diff.mean() < 0.5, f"{name}: pixels outside the boxes changed"
    else:
        assert diff.max(initial=0) == 0, f"{name}: pixels outside the boxes changed"
    # Inside: what displays black, in every frame.
    shown = ref.display8(out_ds)
    assert shown[:, mask].max(initial=0) == 0, f"{name}: a box is not black"
    # Every PHI glyph pixel Pillow drew is in a box.
    missed = planted.ink & ~mask
    assert not missed.any(), f"{name}: {int(missed.sum())} PHI ink pixels outside every box"


def test_cine_reads_only_frames_whose_band_changes_and_redacts_all(cleaned):
    _, rec = cleaned[1]["cine"]
    assert rec["pixels"]["frames"] == 12
    assert rec["pixels"]["ocr_frames"] == 2


def test_region_rule_blanks_its_box(cleaned):
    out_ds, rec = cleaned[1]["rule"]
    assert "rule:test-fixed-band" in rec["pixels"]["matches"]
    assert [0 if b[0] == "all" else 1 for b in rec["pixels"]["boxes"]].count(0) >= 1
    assert (out_ds.pixel_array[100:128, :] == 0).all()


def test_not_at_risk_passes_through_untouched(corpus, cleaned):
    _, made = corpus
    out_ds, rec = cleaned[1]["plain"]
    assert rec["pixels"]["status"] == "not_at_risk"
    assert out_ds.PixelData == pydicom.dcmread(made["plain"][0]).PixelData
    assert "BurnedInAnnotation" not in out_ds
    assert "113101" not in [i.CodeValue for i in out_ds.DeidentificationMethodCodeSequence]


def test_audit_never_holds_the_text(cleaned):
    out = cleaned[0]
    text = (out / "deid_audit.jsonl").read_text().upper()
    for token in ref.planted_tokens([ref.PATIENT_NAME.replace("^", " "), ref.PATIENT_ID, ref.ACCESSION,
                                     ref.INSTITUTION]):
        assert token not in text, token


def test_quarantine_mode_sets_at_risk_files_aside_unread(corpus, tmp_path):
    root, made = corpus
    out = tmp_path / "out"
    r = run("deid", "--in", root, "--out", out, "--key-file", key_file(tmp_path), "--pixels", "quarantine")
    assert r.returncode == 0, r.stderr
    recs = audit(out)
    assert sorted(rec["status"] for rec in recs) == ["ok"] + ["quarantined"] * len(AT_RISK)
    assert all("--pixels quarantine" in rec["reason"] for rec in recs if rec["status"] == "quarantined")
    assert list(outputs(out, made)) == ["plain"]
    assert len(list((tmp_path / "out.quarantine").glob("*.dcm"))) == len(AT_RISK)


def test_off_warns_once_and_leaves_pixels(corpus, tmp_path):
    root, made = corpus
    out = tmp_path / "out"
    r = run("deid", "--in", root, "--out", out, "--key-file", key_file(tmp_path), "--pixels", "off")
    assert r.returncode == 0, r.stderr
    warning = "pixel PHI check is off: images with burned-in text may leak"
    assert r.stderr.count(warning) == 1, r.stderr
    found = outputs(out, made)
    assert found["us"][0].PixelData == pydicom.dcmread(made["us"][0]).PixelData
    assert found["us"][1]["pixels"]["status"] == "off"
    # --verify OCRs the at-risk outputs and finds the burned-in text.
    v = run("deid", "--verify", out)
    assert v.returncode == 1, v.stdout + v.stderr
    assert "pixels show text that looks like PHI" in v.stdout
    assert "KOWALCZYK" not in v.stdout.upper() and ref.PATIENT_ID not in v.stdout


def test_verify_passes_cleaned_output(cleaned):
    v = run("deid", "--verify", cleaned[0])
    assert v.returncode == 0, v.stdout + v.stderr


def test_missing_language_data_fails_before_writing(corpus, tmp_path):
    root, _ = corpus
    empty = tmp_path / "no-tessdata"
    empty.mkdir()
    out = tmp_path / "out"
    r = run("deid", "--in", root, "--out", out, "--key-file", key_file(tmp_path), env={"TESSDATA_PREFIX": str(empty)})
    assert_user_error(r, "tesseract-ocr-eng", "--pixels quarantine")
    assert not out.exists()


def test_undecodable_at_risk_file_is_quarantined_not_written(tmp_path):
    root = tmp_path / "in"
    ds, _ = ref.rgb_us(root / "short.dcm", rows=60, cols=80)
    ds.PixelData = ds.PixelData[: len(ds.PixelData) // 2]  # half the frame is missing
    ds.save_as(root / "short.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    r = run("deid", "--in", root, "--out", out, "--key-file", key_file(tmp_path))
    assert r.returncode == 0, r.stderr
    (rec,) = audit(out)
    assert rec["status"] == "quarantined"
    assert rec["reason"].startswith("pixel PHI check failed:"), rec["reason"]
    assert not list(out.rglob("*.dcm"))


def test_burned_in_yes_is_cleaned_when_allowed(tmp_path):
    root = tmp_path / "in"
    ds, planted = ref.ct_sc16(root / "ct.dcm")
    ds.SOPClassUID = ref.CT_CLASS  # at risk only through the attribute now
    ds.file_meta.MediaStorageSOPClassUID = ref.CT_CLASS
    ds.BurnedInAnnotation = "YES"
    ds.save_as(root / "ct.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    r = run("deid", "--in", root, "--out", out, "--key-file", key_file(tmp_path), "--allow-burned-in")
    assert r.returncode == 0, r.stderr
    (rec,) = audit(out)
    assert rec["pixels"]["status"] == "cleaned" and rec["pixels"]["at_risk"] == "Burned In Annotation YES"
    got = pydicom.dcmread(out / rec["output"])
    assert got.BurnedInAnnotation == "NO"
    assert not (planted.ink & ~box_mask(rec, planted.ink.shape)).any()


def test_thousand_frame_cine_reads_one_frame_and_blacks_all(tmp_path):
    root = tmp_path / "in"
    _, planted = ref.long_cine(root / "cine.dcm", frames=1000)
    out = tmp_path / "out"
    r = run("deid", "--in", root, "--out", out, "--key-file", key_file(tmp_path))
    assert r.returncode == 0, r.stderr
    (rec,) = audit(out)
    assert rec["pixels"]["status"] == "cleaned", rec["pixels"]
    assert rec["pixels"]["frames"] == 1000 and rec["pixels"]["ocr_frames"] == 1
    got = pydicom.dcmread(out / rec["output"]).pixel_array
    assert got.shape[0] == 1000
    ink = planted.ink & box_mask(rec, planted.ink.shape)
    assert ink.sum() == planted.ink.sum(), "PHI ink outside the boxes"
    assert (got[:, ink] == 0).all(), "a frame keeps PHI ink"


def test_cine_whose_band_changes_in_every_frame_is_quarantined(tmp_path):
    root = tmp_path / "in"
    ref.long_cine(root / "cine.dcm", frames=40, changing_band=True)
    out = tmp_path / "out"
    r = run("deid", "--in", root, "--out", out, "--key-file", key_file(tmp_path))
    assert r.returncode == 0, r.stderr
    (rec,) = audit(out)
    assert rec["status"] == "quarantined"
    assert "text bands change in more than 32 frames" in rec["reason"]
    assert not list(out.rglob("*.dcm"))


def test_image_wider_than_4096_is_read_in_tiles(tmp_path):
    root = tmp_path / "in"
    _, planted = ref.wide_sc(root / "wide.dcm")
    out = tmp_path / "out"
    r = run("deid", "--in", root, "--out", out, "--key-file", key_file(tmp_path))
    assert r.returncode == 0, r.stderr
    (rec,) = audit(out)
    assert rec["pixels"]["status"] == "cleaned", rec["pixels"]
    assert not (planted.ink & ~box_mask(rec, planted.ink.shape)).any(), "PHI ink outside the boxes"
    assert (pydicom.dcmread(out / rec["output"]).pixel_array[planted.ink] == 0).all()
