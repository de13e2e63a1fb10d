"""Independent reference for the deid tests: parses data/deid/basic_profile.tsv on its
own, resolves actions by the rule docs/deid.md states, computes the keyed values with
Python's hmac, and builds a pydicom corpus in which every attribute of the table that
pydicom knows is filled with a distinctive value (plus nested sequences and private
tags). Shared by tests/integration/deid*_test.py; not a test itself."""
import datetime
import hashlib
import hmac
from pathlib import Path

import pydicom
from pydicom.datadict import dictionary_VR, dictionary_has_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

OPTION_COLUMNS = ["rtn_long_modif_dates", "rtn_pat_chars", "rtn_dev_id", "clean_desc"]
OPTION_FLAGS = {"long-modified-dates": "rtn_long_modif_dates", "patient-characteristics": "rtn_pat_chars",
                "device-identity": "rtn_dev_id", "clean-descriptors": "clean_desc"}
PATIENT_NAME = "Xylophonia^Quenby"   # planted: must never leave the input tree
PATIENT_ID = "MRN-PLANT-4711"
PRIVATE_TEXT = "PRIVATE-Quenby-secret"
# (0028,0301) Burned In Annotation: set to NO once `--pixels clean` has OCR-checked a Secondary Capture.
ADDED_TAGS = {0x00120062, 0x00120063, 0x00120064, 0x00280303, 0x00280301}


def load_table(path):
    """{tag int: row dict} for exact tags; wildcard rows are returned separately."""
    exact, wildcard = {}, []
    header = None
    for line in Path(path).read_text().splitlines():
        if not line or line.startswith("#") or line in ('R"tsv(', ')tsv"'):
            continue
        cells = line.split("\t")
        if header is None:
            header = cells
            continue
        row = dict(zip(header, cells))
        if "x" in row["tag"].lower():
            wildcard.append(row)
        else:
            exact[int(row["tag"][1:5] + row["tag"][6:10], 16)] = row
    return exact, wildcard


def resolve(row, options):
    """Options override the basic action (K over C over anything); a compound basic
    action such as X/Z/D takes its last letter."""
    chosen = None
    for flag in options:
        cell = row[OPTION_FLAGS[flag]]
        if cell:
            a = cell.split("/")[-1][0]
            if chosen is None or a == "K" or (a == "C" and chosen != "K"):
                chosen = a
    return chosen or row["basic"].split("/")[-1][0]


def keyed(key, purpose, value):
    return hmac.new(key, b"medtrain-deid/" + purpose.encode() + b"\0" + value.encode(), hashlib.sha256).digest()


def pseudonym(key, patient_id):
    return keyed(key, "patient", patient_id)[:16].hex()


def remap_uid(key, uid):
    return "2.25." + str(int.from_bytes(keyed(key, "uid", uid)[:16], "big"))


def day_offset(key, patient_id):
    return -(1 + int.from_bytes(keyed(key, "date-offset", patient_id)[:8], "big") % 3652)


def shift_date(text, days):
    d = datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8])) + datetime.timedelta(days=days)
    return d.strftime("%Y%m%d") + text[8:]


def _value(tag, vr, i):
    """A distinctive, valid value for one attribute."""
    if vr == "PN":
        return f"Phi{i}^Person"
    if vr in ("LO", "LT", "ST", "UT", "UC"):
        return f"phi value {i} for {PATIENT_NAME.split('^')[0]}"
    if vr in ("SH", "AE", "CS"):
        return f"PHI{i}"
    if vr == "DA":
        return "20200115"
    if vr == "TM":
        return "101530.5"
    if vr == "DT":
        return "20200115101530.5+0100"
    if vr == "UI":
        return f"1.2.826.0.1.3680043.10.543.{i}"
    if vr == "AS":
        return "045Y"
    if vr in ("IS",):
        return "7"
    if vr == "DS":
        return "1.5"
    if vr in ("US", "SS", "UL", "SL", "SV", "UV"):
        return 7
    if vr in ("FL", "FD"):
        return 1.5
    if vr == "AT":
        return 0x00100010
    if vr == "UR":
        return f"http://phi.example/{i}"
    if vr in ("OB", "OW", "UN", "OD", "OF", "OL", "OV"):
        return bytes(range(1, 9))
    return None


def nested_item(i):
    """An item with a UID to remap, a name to blank, a class UID to keep, a private tag."""
    item = Dataset()
    item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    item.ReferencedSOPInstanceUID = f"1.2.826.0.1.3680043.10.543.9{i}"
    item.OperatorsName = f"Nested{i}^Operator"
    item.PatientName = PATIENT_NAME
    item.private_block(0x0013, "ACME NESTED", create=True).add_new(0x01, "LO", PRIVATE_TEXT)
    inner = Dataset()
    inner.ReferencedSOPInstanceUID = f"1.2.826.0.1.3680043.10.543.8{i}"
    inner.ReferringPhysicianName = "Deep^Nested"
    item.ReferencedImageSequence = Sequence([inner])
    return item


SKIP = {0x00020003, 0x00080018, 0x0020000D, 0x0020000E, 0x00100010, 0x00100020, 0xFFFAFFFA, 0xFFFCFFFC}


def make_file(path, table, *, study_uid, series_uid, sop_uid, patient_id=PATIENT_ID, dates=None, burned_in=None,
              fill_table=True):
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.PatientName = PATIENT_NAME
    ds.PatientID = patient_id
    ds.Modality = "OT"
    if fill_table:
        for i, tag in enumerate(sorted(table)):
            if tag in SKIP or tag >> 16 in (0x0000, 0x0002) or not dictionary_has_tag(tag):
                continue
            vr = dictionary_VR(tag).split(" ")[0]
            if vr == "SQ":
                ds.add_new(tag, "SQ", Sequence([nested_item(i)]))
            elif (value := _value(tag, vr, i)) is not None:
                ds.add_new(tag, vr, value)
        # A sequence outside the table: kept, its items still cleaned.
        ds.DerivationCodeSequence = Sequence([nested_item(999)])
    for name, value in (dates or {}).items():
        setattr(ds, name, value)
    if burned_in is not None:
        ds.BurnedInAnnotation = burned_in
    ds.private_block(0x0011, "ACME 1.0", create=True).add_new(0x01, "LO", PRIVATE_TEXT)
    ds.Rows, ds.Columns = 4, 4
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = bytes((7 * k + len(sop_uid)) % 256 for k in range(32))
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return ds


def new_uid():
    return generate_uid(prefix="1.2.826.0.1.3680043.10.543.")


def tree_hash(root):
    """sha256 over every file's relative path, bytes and mode: the input must not change."""
    h = hashlib.sha256()
    for p in sorted(Path(root).rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(oct(p.stat().st_mode).encode())
            try:
                h.update(p.read_bytes())
            except PermissionError:
                h.update(b"unreadable")
    return h.hexdigest()


def read(path):
    return pydicom.dcmread(path)


def deep_nesting_bytes(depth, *, close=True, deflated=False):
    """A Part 10 file (explicit VR little endian, or deflated) holding `depth`
    Content Sequences nested in one another, each of undefined length with one
    item of undefined length; written byte by byte (pydicom itself recurses and
    cannot write 10,000 levels). Without `close` the delimiters are left out, as
    in a file cut short."""
    import struct
    import zlib

    def elem(group, element, vr, value):
        if vr in (b"OB", b"SQ", b"UN", b"UT"):
            return struct.pack("<HH2sHI", group, element, vr, 0, len(value)) + value
        return struct.pack("<HH2sH", group, element, vr, len(value)) + value

    opening = struct.pack("<HH2sHI", 0x0040, 0xA730, b"SQ", 0, 0xFFFFFFFF) + struct.pack("<HHI", 0xFFFE, 0xE000,
                                                                                          0xFFFFFFFF)
    closing = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    body = (elem(0x0008, 0x0016, b"UI", b"1.2.840.10008.5.1.4.1.1.88.11\0")
            + elem(0x0008, 0x0018, b"UI", b"1.2.826.0.1.3680043.10.543.77\0")
            + elem(0x0010, 0x0010, b"PN", PATIENT_NAME.encode() + b" ")
            + elem(0x0010, 0x0020, b"LO", PATIENT_ID.encode())
            + opening * depth + elem(0x0040, 0xA160, b"UT", b"deep text ") + (closing * depth if close else b""))
    syntax = b"1.2.840.10008.1.2.1.99" if deflated else b"1.2.840.10008.1.2.1\0"
    if deflated:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = packer.compress(body) + packer.flush()
    meta = (elem(0x0002, 0x0001, b"OB", b"\0\1") + elem(0x0002, 0x0002, b"UI", b"1.2.840.10008.5.1.4.1.1.88.11\0")
            + elem(0x0002, 0x0003, b"UI", b"1.2.826.0.1.3680043.10.543.77\0") + elem(0x0002, 0x0010, b"UI", syntax))
    return b"\0" * 128 + b"DICM" + elem(0x0002, 0x0000, b"UL", struct.pack("<I", len(meta))) + meta + body
