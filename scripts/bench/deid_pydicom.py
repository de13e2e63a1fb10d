"""The same de-identification as `medtrain deid` (basic profile, the same keyed
pseudonyms/UIDs/date offsets, private tags removed, the same output layout, input
and output SHA-256), written plainly with pydicom: the baseline for
scripts/bench/deid_vs_pydicom.sh, and a cross-check of medtrain's output (--compare).

usage: deid_pydicom.py --in DIR --out DIR --key-file K [--jobs N] [--options a,b]
       deid_pydicom.py --compare OURS THEIRS   (data sets equal, file by file)"""
import argparse
import hashlib
import json
import multiprocessing
import sys
import time
from pathlib import Path

import pydicom
from pydicom.sequence import Sequence

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests/data/deid"))
from deid_reference import (day_offset, load_table, pseudonym, remap_uid, resolve, shift_date)  # noqa: E402

TABLE, WILDCARD = load_table(ROOT / "data/deid/basic_profile.tsv")
DUMMY = {"DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000D", "IS": "0", "DS": "0"}
NUMERIC = {"US", "SS", "UL", "SL", "FL", "FD", "SV", "UV"}
CODES = {"long-modified-dates": ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
         "patient-characteristics": ("113108", "Retain Patient Characteristics Option"),
         "device-identity": ("113109", "Retain Device Identity Option"),
         "clean-descriptors": ("113105", "Clean Descriptors Option")}


def find_row(tag):
    row = TABLE.get(tag)
    if row is None and (tag >> 28) in (5, 6):  # (50xx,xxxx), (60xx,3000)...
        for w in WILDCARD:
            pat = w["tag"][1:5] + w["tag"][6:10]
            if all(p in "xX" or p.upper() == c for p, c in zip(pat, f"{tag:08X}")):
                return w
    return row


def clean(ds, key, options, offset, depth):
    for elem in list(ds):
        tag = int(elem.tag)
        if elem.tag.is_private:
            del ds[elem.tag]
            continue
        row = find_row(tag)
        if row is None:
            if elem.VR == "SQ":
                for item in elem.value:
                    clean(item, key, options, offset, depth + 1)
            continue
        action = resolve(row, options)
        if action == "X":
            del ds[elem.tag]
        elif action == "Z":
            elem.value = Sequence([]) if elem.VR == "SQ" else None
        elif elem.VR == "SQ":
            for item in elem.value:
                clean(item, key, options, offset, depth + 1)
        elif action == "K":
            pass
        elif elem.VR == "UI" and action in "UDC":
            values = elem.value if isinstance(elem.value, list) else [elem.value]
            remapped = [remap_uid(key, v) for v in values if v]
            elem.value = remapped if len(remapped) > 1 else (remapped[0] if remapped else "")
        elif action == "C" and elem.VR in ("DA", "DT", "TM"):
            elem.value = shift_date(str(elem.value), offset) if elem.VR != "TM" else elem.value
        elif action in ("D", "U"):
            if elem.VR in NUMERIC:
                elem.value = 0
            elif elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
                elem.value = None
            else:
                elem.value = DUMMY.get(elem.VR, "ANONYMIZED")


def deid_file(args):
    path, in_dir, out_dir, key, options = args
    data = Path(path).read_bytes()
    in_sha = hashlib.sha256(data).hexdigest()
    ds = pydicom.dcmread(path)
    if ds.get("BurnedInAnnotation") == "YES":
        return None
    source = str(ds.get("PatientID", "")).strip() or str(ds.get("PatientName", ""))
    pseudo = pseudonym(key, source)
    clean(ds, key, options, day_offset(key, source), 0)
    ds.PatientName = pseudo
    ds.PatientID = pseudo
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = ["Basic Application Confidentiality Profile"] + [CODES[o][1] for o in options]
    items = []
    for value, meaning in [("113100", "Basic Application Confidentiality Profile")] + [CODES[o] for o in options]:
        item = pydicom.Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "DCM", meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(items)
    ds.LongitudinalTemporalInformationModified = "MODIFIED" if "long-modified-dates" in options else "REMOVED"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    out = Path(out_dir) / pseudo / ds.StudyInstanceUID / ds.SeriesInstanceUID / f"{ds.SOPInstanceUID}.dcm"
    out.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(out)
    out_sha = hashlib.sha256(out.read_bytes()).hexdigest()
    return {"input_sha256": in_sha, "output_sha256": out_sha, "pseudonym": pseudo}


def run(args):
    key = Path(args.key_file).read_bytes()
    options = [o for o in args.options.split(",") if o]
    files = sorted(str(p) for p in Path(args.inp).rglob("*.dcm"))
    start = time.perf_counter()
    with multiprocessing.Pool(args.jobs) as pool:
        done = [r for r in pool.imap_unordered(deid_file, [(f, args.inp, args.out, key, options) for f in files],
                                               chunksize=16) if r]
    with open(Path(args.out) / "pydicom_audit.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in done)
    seconds = time.perf_counter() - start
    print(json.dumps({"files": len(files), "written": len(done), "seconds": seconds,
                      "bytes_in": sum(Path(p).stat().st_size for p in files)}))


def compare(ours, theirs):
    """Every data set element equal, except the free-text method and what encodes the tool."""
    ignore = {0x00120063}
    n = 0
    for p in sorted(Path(ours).rglob("*.dcm")):
        a, b = pydicom.dcmread(p), pydicom.dcmread(Path(theirs) / p.relative_to(ours))
        ta = {int(e.tag) for e in a} - ignore
        tb = {int(e.tag) for e in b} - ignore
        if ta != tb:
            sys.exit(f"{p}: tags differ: {sorted(hex(t) for t in ta ^ tb)}")
        for t in ta:
            va, vb = a[t].value, b[t].value
            if a[t].VR == "SQ":
                va, vb = [sorted(map(str, i)) for i in va], [sorted(map(str, i)) for i in vb]
            if (va or None) != (vb or None) and str(va) != str(vb):
                sys.exit(f"{p}: ({t >> 16:04X},{t & 0xFFFF:04X}) differs")
        n += 1
    print(f"compared {n} files: same data sets")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="inp")
    ap.add_argument("--out")
    ap.add_argument("--key-file")
    ap.add_argument("--jobs", type=int, default=multiprocessing.cpu_count())
    ap.add_argument("--options", default="")
    ap.add_argument("--compare", nargs=2)
    args = ap.parse_args()
    if args.compare:
        compare(*args.compare)
    else:
        run(args)


if __name__ == "__main__":
    main()
