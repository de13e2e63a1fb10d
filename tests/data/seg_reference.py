"""Independent reference for data/dicom/seg_labels: DICOM SEG written by
highdicom, read back by pydicom.

Usage: seg_reference.py SERIES_DIR OUT_DIR

Writes into OUT_DIR, from the CT series in SERIES_DIR (one file per slice):
  seg.dcm               a BINARY SEG by highdicom with three segments, labelled
                        "Liver" (1), "Tumour" (2, inside the liver: overlap) and
                        "Spleen" (3); segments listed in that order
  seg_fractional.dcm    a FRACTIONAL SEG (MaximumFractionalValue 200): one segment,
                        a ramp of probabilities across the columns; expected_fractional.npy
  seg_other_series.dcm  seg.dcm referencing another SeriesInstanceUID
  seg_unknown_sop.dcm   seg.dcm with frame 2's ReferencedSOPInstanceUID unknown
  expected_numbers.npy  int64 [D, H, W] in the series' order along the slice
                        normal: class = SegmentNumber, the largest where segments overlap
  expected_names.npy    the same with classes from the names
                        background,spleen,liver,tumour (SegmentLabel, ignoring case)
The expected volumes are decoded from seg.dcm by pydicom alone (its bit
unpacking, its per-frame functional groups), not from the array we gave highdicom.
"""
import pathlib
import sys

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

NAMES = ["background", "spleen", "liver", "tumour"]


def read_series(folder):
    slices = [pydicom.dcmread(p) for p in sorted(pathlib.Path(folder).iterdir()) if p.is_file()]
    iop = np.array(slices[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    for s in slices:  # type 2 attributes highdicom copies; our synthetic CT leaves them out
        for keyword in ("PatientName", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime", "StudyID",
                        "AccessionNumber", "ReferringPhysicianName"):
            if keyword not in s:
                setattr(s, keyword, "")
    slices.sort(key=lambda s: float(np.dot(normal, np.array(s.ImagePositionPatient, dtype=float))))
    return slices


def segments_array(depth, rows, cols):
    """[D, H, W, 3] booleans: liver box, tumour inside it, spleen elsewhere."""
    a = np.zeros((depth, rows, cols, 3), dtype=bool)
    a[1 : depth - 1, rows // 4 : rows // 2 + 2, cols // 4 : cols // 2 + 3, 0] = True
    a[2:4, rows // 3 : rows // 3 + 3, cols // 3 : cols // 3 + 4, 1] = True
    a[depth // 2 :, rows // 2 + 4 : rows - 2, cols - 8 : cols - 1, 2] = True
    return a


def description(number, label):
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=label,
        segmented_property_category=codes.SCT.Organ,
        segmented_property_type=codes.SCT.Liver,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )


def write_seg(slices, out):
    pixels = segments_array(len(slices), int(slices[0].Rows), int(slices[0].Columns))
    seg = hd.seg.Segmentation(
        source_images=slices,
        pixel_array=pixels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description(1, "Liver"), description(2, "Tumour"), description(3, "Spleen")],
        series_instance_uid=generate_uid(),
        series_number=99,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="medtrain tests",
        manufacturer_model_name="seg_reference.py",
        software_versions="1",
        device_serial_number="1",
    )
    seg.save_as(out / "seg.dcm")


def write_fractional(slices, out):
    """One FRACTIONAL segment: a ramp of probabilities across the columns."""
    depth, rows, cols = len(slices), int(slices[0].Rows), int(slices[0].Columns)
    ramp = np.broadcast_to(np.linspace(0.0, 1.0, cols, dtype=np.float32), (depth, rows, cols)).copy()
    ramp[0] = 0  # an empty frame, which the writer may leave out
    seg = hd.seg.Segmentation(
        source_images=slices,
        pixel_array=ramp,
        segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL,
        segment_descriptions=[description(1, "Liver")],
        series_instance_uid=generate_uid(),
        series_number=98,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="medtrain tests",
        manufacturer_model_name="seg_reference.py",
        software_versions="1",
        device_serial_number="1",
        max_fractional_value=200,
    )
    seg.save_as(out / "seg_fractional.dcm")


def expected(seg_path, slices, classes):
    """Decodes the SEG with pydicom: frame -> (segment, referenced slice).
    FRACTIONAL: a voxel is in the segment where value / MaximumFractionalValue >= 0.5."""
    ds = pydicom.dcmread(seg_path)
    fractional = ds.SegmentationType == "FRACTIONAL"
    slice_of = {str(s.SOPInstanceUID): k for k, s in enumerate(slices)}
    number_label = {int(s.SegmentNumber): str(s.SegmentLabel) for s in ds.SegmentSequence}
    frames = ds.pixel_array.reshape(int(ds.NumberOfFrames), int(ds.Rows), int(ds.Columns))
    out = np.zeros((len(slices), int(ds.Rows), int(ds.Columns)), dtype=np.int64)
    shared = ds.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in ds else {}

    def group(frame_group, name):  # per-frame, else shared (one segment: highdicom shares it)
        return (frame_group if name in frame_group else shared)[name].value[0]

    for f, frame_group in enumerate(ds.PerFrameFunctionalGroupsSequence):
        number = int(group(frame_group, "SegmentIdentificationSequence").ReferencedSegmentNumber)
        source = group(frame_group, "DerivationImageSequence").SourceImageSequence[0]
        sop = str(source.ReferencedSOPInstanceUID)
        cls = classes(number, number_label[number])
        k = slice_of[sop]
        on = frames[f] / float(ds.MaximumFractionalValue) >= 0.5 if fractional else frames[f] != 0
        out[k] = np.where(on, np.maximum(out[k], cls), out[k])
    return out


def main(series_dir, out_dir):
    out = pathlib.Path(out_dir)
    slices = read_series(series_dir)
    write_seg(slices, out)
    np.save(out / "expected_numbers.npy", expected(out / "seg.dcm", slices, lambda n, _: n))
    names = {n: i for i, n in enumerate(NAMES)}
    np.save(out / "expected_names.npy", expected(out / "seg.dcm", slices, lambda _, label: names[label.lower()]))

    write_fractional(slices, out)
    np.save(out / "expected_fractional.npy", expected(out / "seg_fractional.dcm", slices, lambda n, _: n))

    other = pydicom.dcmread(out / "seg.dcm")
    other.ReferencedSeriesSequence[0].SeriesInstanceUID = "1.2.3.4.5.6.7.8.9"
    other.save_as(out / "seg_other_series.dcm")
    unknown = pydicom.dcmread(out / "seg.dcm")
    group = unknown.PerFrameFunctionalGroupsSequence[1]
    group.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID = "1.2.3.4.5.6.7.8.10"
    unknown.save_as(out / "seg_unknown_sop.dcm")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
