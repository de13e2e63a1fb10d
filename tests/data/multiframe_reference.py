"""Independent reference for data/dicom/multiframe_volume: multi-frame
volumes (enhanced CT, RT dose) as pydicom reads them.

Usage: multiframe_reference.py OUT_DIR

Writes into OUT_DIR
  enhanced.dcm          an Enhanced CT written with pydicom: 6 frames of 12 x 16,
                        signed 16-bit, in shuffled position order on an oblique
                        plane; per-frame PlanePositionSequence and
                        PixelValueTransformationSequence (a different rescale per
                        frame); orientation and pixel spacing in the shared groups
  enhanced_two_stacks.dcm  the same with frame 4 at frame 1's position
  rtdose*.dcm           pydicom's bundled RT dose files (copied; the RLE one
                        re-encoded from rtdose.dcm by DCMTK's dcmcrle), plus
  rtdose_absolute.dcm   rtdose.dcm with absolute offsets (z values), and
  rtdose_absolute_oblique.dcm  the same on a non-axial grid (invalid)
and for each valid FILE.dcm the volume pydicom gives, FILE.f32 (raw
little-endian float32 [D, H, W], frames sorted along the slice normal), with
FILE.geom (D H W, spacing z y x, origin x y z on one line).
"""
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

ROWS, COLS, FRAMES = 12, 16, 6
IOP = [0.0, 0.8, 0.6, 1.0, 0.0, 0.0]  # oblique: rows along (0, .8, .6), columns along x


def item(**attrs):
    ds = Dataset()
    for k, v in attrs.items():
        setattr(ds, k, v)
    return ds


def enhanced(positions):
    rng = np.random.default_rng(5)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"  # Enhanced CT Image Storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.SeriesInstanceUID = generate_uid()
    ds.Rows, ds.Columns, ds.NumberOfFrames = ROWS, COLS, len(positions)
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SharedFunctionalGroupsSequence = Sequence([item(
        PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=IOP)]),
        PixelMeasuresSequence=Sequence([item(PixelSpacing=[0.7, 0.9], SliceThickness=2.5)]),
    )])
    groups = []
    for k, p in enumerate(positions):
        groups.append(item(
            PlanePositionSequence=Sequence([item(ImagePositionPatient=list(p))]),
            PixelValueTransformationSequence=Sequence([item(
                RescaleSlope=f"{1 + 0.25 * k:g}", RescaleIntercept=f"{-1024 + 3 * k:g}", RescaleType="HU")]),
        ))
    ds.PerFrameFunctionalGroupsSequence = Sequence(groups)
    pixels = rng.integers(-2000, 3000, size=(len(positions), ROWS, COLS), dtype=np.int16)
    ds.PixelData = pixels.tobytes()
    return ds


def enhanced_positions():
    normal = np.cross(IOP[:3], IOP[3:])
    origin = np.array([-40.0, 12.5, 100.0])
    order = [3, 0, 5, 1, 4, 2]  # frames in shuffled position order
    return [tuple(float(x) for x in origin + 2.5 * k * normal) for k in order]


def group(ds, frame, name):
    """Functional group `name` of `frame`: per-frame, else shared."""
    per_frame = ds.PerFrameFunctionalGroupsSequence[frame]
    if name in per_frame:
        return per_frame[name].value[0]
    return ds.SharedFunctionalGroupsSequence[0][name].value[0]


def reference(ds):
    """(volume, spacing z y x, origin): frames sorted along the slice normal."""
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    stored = ds.pixel_array.reshape(frames, int(ds.Rows), int(ds.Columns)).astype(np.float64)
    if "GridFrameOffsetVector" in ds:  # RT dose, PS3.3 C.8.8.3.2
        iop = np.array(ds.ImageOrientationPatient, dtype=float)
        ipp = np.array(ds.ImagePositionPatient, dtype=float)
        normal = np.cross(iop[:3], iop[3:])
        offsets = [float(o) for o in ds.GridFrameOffsetVector][:frames]
        if offsets[0] == 0:
            positions = [ipp + o * normal for o in offsets]
        else:
            positions = [np.array([ipp[0], ipp[1], o]) for o in offsets]
        values = stored * float(ds.DoseGridScaling)
        spacing_yx = [float(v) for v in ds.PixelSpacing]
    else:
        iop = np.array(group(ds, 0, "PlaneOrientationSequence").ImageOrientationPatient, dtype=float)
        normal = np.cross(iop[:3], iop[3:])
        positions, values = [], np.empty_like(stored)
        for k in range(frames):
            positions.append(np.array(group(ds, k, "PlanePositionSequence").ImagePositionPatient, dtype=float))
            t = group(ds, k, "PixelValueTransformationSequence")
            values[k] = stored[k] * float(t.RescaleSlope) + float(t.RescaleIntercept)
        spacing_yx = [float(v) for v in group(ds, 0, "PixelMeasuresSequence").PixelSpacing]
    along = [float(np.dot(normal, p)) for p in positions]
    order = np.argsort(along, kind="stable")
    gaps = np.diff(np.array(along)[order])
    z = float(np.median(gaps)) if len(gaps) else 1.0
    return values[order].astype(np.float32), [z] + spacing_yx, positions[order[0]]


def save_reference(path):
    volume, spacing, origin = reference(pydicom.dcmread(path))
    volume.astype("<f4").tofile(path.with_suffix(".f32"))
    numbers = [repr(float(v)) for v in list(spacing) + list(origin)]
    path.with_suffix(".geom").write_text(" ".join([str(d) for d in volume.shape] + numbers) + "\n")


def main(out_dir):
    out = pathlib.Path(out_dir)
    positions = enhanced_positions()
    enhanced(positions).save_as(out / "enhanced.dcm", enforce_file_format=True)
    save_reference(out / "enhanced.dcm")
    enhanced(positions[:3] + [positions[1]] + positions[4:]).save_as(out / "enhanced_two_stacks.dcm",
                                                                   enforce_file_format=True)
    # pydicom's rtdose_rle.dcm is left out: GDCM wrote its data set in implicit VR under an
    # explicit-VR syntax, which DCMTK reads as UN values; DCMTK's dcmcrle writes the RLE one.
    for name in ("rtdose.dcm", "rtdose_1frame.dcm", "rtdose_expb.dcm"):
        shutil.copy(get_testdata_file(name), out / name)
        save_reference(out / name)
    subprocess.run(["dcmcrle", str(out / "rtdose.dcm"), str(out / "rtdose_rle.dcm")], check=True)
    save_reference(out / "rtdose_rle.dcm")
    dose = pydicom.dcmread(out / "rtdose.dcm")
    z0 = float(dose.ImagePositionPatient[2])
    dose.GridFrameOffsetVector = [z0 + float(o) for o in dose.GridFrameOffsetVector]  # absolute z
    dose.save_as(out / "rtdose_absolute.dcm")
    save_reference(out / "rtdose_absolute.dcm")
    dose.ImageOrientationPatient = IOP
    dose.save_as(out / "rtdose_absolute_oblique.dcm")


if __name__ == "__main__":
    main(sys.argv[1])
