"""Checks medtrain's DICOM SEG and NIfTI masks with independent readers.

usage: mask_outputs_check.py SERIES_DIR LABELS.npy PROBS.npy BINARY_SEG FRACTIONAL_SEG MASK.nii.gz
                             LABEL1,LABEL2,... ALGORITHM VERSION

The source series is read with pydicom and ordered here along its slice normal
(not taken from medtrain); labels are uint8 [D, H, W] in that order, probs
uint8 [C, D, H, W]. The SEGs must be valid for highdicom, reference every source
instance, hold one frame per (segment, slice) whose pixels, position and source
reference match; the NIfTI must carry the labels on the grid whose affine is
computed here from the DICOM geometry (LPS -> RAS). Prints what failed; exit 1.
"""
import os
import sys

import highdicom as hd
import nibabel as nib
import numpy as np
import pydicom

failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)


def read_series(folder):
    slices = [pydicom.dcmread(os.path.join(folder, f)) for f in sorted(os.listdir(folder))]
    iop = np.array(slices[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    slices.sort(key=lambda s: float(np.dot(normal, np.array(s.ImagePositionPatient, dtype=float))))
    return slices, iop, normal


def check_seg(path, slices, labels, probs, names, algorithm, version, fractional):
    tag = os.path.basename(path)
    ds = pydicom.dcmread(path)
    seg = hd.seg.Segmentation.from_dataset(ds)  # raises on an invalid IOD
    src = slices[0]
    expect(ds.Modality == "SEG", f"{tag}: Modality {ds.Modality}")
    for attr in ("StudyInstanceUID", "PatientID", "FrameOfReferenceUID"):
        expect(getattr(ds, attr) == getattr(src, attr), f"{tag}: {attr} not the source's")
    for attr in ("SeriesInstanceUID", "SOPInstanceUID"):
        expect(getattr(ds, attr) not in {getattr(s, attr) for s in slices}, f"{tag}: {attr} reused")
    refs = ds.ReferencedSeriesSequence
    expect(len(refs) == 1 and refs[0].SeriesInstanceUID == src.SeriesInstanceUID, f"{tag}: referenced series")
    referenced = {r.ReferencedSOPInstanceUID for r in refs[0].ReferencedInstanceSequence}
    expect(referenced == {s.SOPInstanceUID for s in slices}, f"{tag}: referenced instances differ from the source")

    segments = len(names)
    depth, rows, cols = labels.shape
    expect(int(ds.NumberOfFrames) == segments * depth, f"{tag}: {ds.NumberOfFrames} frames")
    expect(ds.BitsAllocated == (8 if fractional else 1), f"{tag}: BitsAllocated {ds.BitsAllocated}")
    expect(ds.SegmentationType == ("FRACTIONAL" if fractional else "BINARY"), f"{tag}: {ds.SegmentationType}")
    if fractional:
        expect(ds.SegmentationFractionalType == "PROBABILITY", f"{tag}: {ds.SegmentationFractionalType}")
        expect(ds.MaximumFractionalValue == 255, f"{tag}: MaximumFractionalValue {ds.MaximumFractionalValue}")
    expect([s.SegmentLabel for s in ds.SegmentSequence] == names, f"{tag}: segment labels")
    for s in ds.SegmentSequence:
        expect(s.SegmentAlgorithmType == "AUTOMATIC" and s.SegmentAlgorithmName == algorithm, f"{tag}: algorithm")
        expect(s.SegmentationAlgorithmIdentificationSequence[0].AlgorithmVersion == version, f"{tag}: version")
        expect(s.SegmentedPropertyCategoryCodeSequence[0].CodeValue == "85756007", f"{tag}: category code")
        expect(s.SegmentedPropertyTypeCodeSequence[0].CodingSchemeDesignator == "SCT", f"{tag}: type code")
    shared = ds.SharedFunctionalGroupsSequence[0]
    expect([float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient]
           == [float(v) for v in src.ImageOrientationPatient], f"{tag}: orientation")
    expect([float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing]
           == [float(v) for v in src.PixelSpacing], f"{tag}: pixel spacing")

    # Frame by frame, through pydicom's unpacking and the frame's own references.
    by_uid = {s.SOPInstanceUID: k for k, s in enumerate(slices)}
    pixels = ds.pixel_array.reshape(-1, rows, cols)
    seen = set()
    for i, frame in enumerate(ds.PerFrameFunctionalGroupsSequence):
        number = frame.SegmentIdentificationSequence[0].ReferencedSegmentNumber
        source = frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        k = by_uid.get(source)
        if k is None:
            failures.append(f"{tag}: frame {i} derives from an unknown instance")
            continue
        seen.add((number, k))
        expected = probs[number, k] if fractional else (labels[k] == number).astype(np.uint8)
        expect(np.array_equal(pixels[i], expected), f"{tag}: frame {i} (segment {number}, slice {k}) pixels")
        position = [float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient]
        expect(position == [float(v) for v in slices[k].ImagePositionPatient], f"{tag}: frame {i} position")
    expect(len(seen) == segments * depth, f"{tag}: (segment, slice) pairs missing")

    # highdicom's own view: the segment grid stacked by source instance.
    uids = [s.SOPInstanceUID for s in slices]
    try:
        if fractional:
            mask = seg.get_pixels_by_source_instance(uids, combine_segments=False, rescale_fractional=False)
            expect(np.array_equal(mask, np.moveaxis(probs[1:], 0, -1)), f"{tag}: highdicom pixels")
        else:
            mask = seg.get_pixels_by_source_instance(uids, combine_segments=True)
            expect(np.array_equal(mask, labels), f"{tag}: highdicom labels")
    except (RuntimeError, ValueError) as e:
        failures.append(f"{tag}: highdicom: {e}")


def check_nifti(path, slices, iop, normal, labels):
    img = nib.load(path)
    expect(img.get_data_dtype() == np.uint8, f"nifti dtype {img.get_data_dtype()}")
    data = np.asanyarray(img.dataobj)
    expect(data.shape == labels.shape[::-1], f"nifti shape {data.shape}")
    expect(np.array_equal(data, labels.transpose(2, 1, 0)), "nifti voxels")
    row_mm, col_mm = (float(v) for v in slices[0].PixelSpacing)  # between rows, between columns
    first = np.array(slices[0].ImagePositionPatient, dtype=float)
    last = np.array(slices[-1].ImagePositionPatient, dtype=float)
    slice_mm = float(np.dot(normal, last - first)) / (len(slices) - 1)
    lps = np.eye(4)
    lps[:3, 0] = iop[:3] * col_mm
    lps[:3, 1] = iop[3:] * row_mm
    lps[:3, 2] = normal * slice_mm
    lps[:3, 3] = first
    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps
    sform, scode = img.header.get_sform(coded=True)
    qform, qcode = img.header.get_qform(coded=True)
    expect(scode == 1 and qcode == 1, f"nifti xform codes {scode} {qcode}")
    expect(np.allclose(sform, ras, atol=1e-4), f"nifti sform\n{sform}\n!=\n{ras}")
    expect(np.allclose(qform, ras, atol=1e-4), f"nifti qform\n{qform}\n!=\n{ras}")
    expect(img.header.get_xyzt_units()[0] == "mm", "nifti units")


def main(argv):
    series, labels_npy, probs_npy, binary, fractional, nifti, names, algorithm, version = argv[1:]
    slices, iop, normal = read_series(series)
    labels, probs = np.load(labels_npy), np.load(probs_npy)
    names = names.split(",")
    check_seg(binary, slices, labels, probs, names, algorithm, version, fractional=False)
    check_seg(fractional, slices, labels, probs, names, algorithm, version, fractional=True)
    check_nifti(nifti, slices, iop, normal, labels)
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("OK: binary SEG, fractional SEG and NIfTI agree with pydicom/highdicom/nibabel")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
