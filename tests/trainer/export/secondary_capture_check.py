"""Checks a Secondary Capture written by medtrain with pydicom, against its
source image and the picture it should hold.

usage: secondary_capture_check.py SOURCE.dcm SC.dcm PICTURE.npy SERIES_UID INSTANCE_NUMBER DESCRIPTION DERIVATION

PICTURE.npy is uint8 [H, W, 3] (RGB) or [H, W] (gray). SERIES_UID is the
series the SC must be in ("-": any new one). Prints what failed; exit 1.
"""
import sys

import numpy as np
import pydicom

failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)


def check_reference(seq, src, name, frames):
    expect(len(seq) == 1, f"{name}: {len(seq)} items")
    ref = seq[0]
    expect(ref.ReferencedSOPClassUID == src.SOPClassUID, f"{name}: SOP class {ref.ReferencedSOPClassUID}")
    expect(ref.ReferencedSOPInstanceUID == src.SOPInstanceUID, f"{name}: SOP instance {ref.ReferencedSOPInstanceUID}")
    if frames > 1:
        expect(ref.get("ReferencedFrameNumber") == 1, f"{name}: frame {ref.get('ReferencedFrameNumber')}")
    else:
        expect("ReferencedFrameNumber" not in ref, f"{name}: frame number for a single-frame source")


def main(source, sc_path, picture_path, series_uid, instance_number, description, derivation):
    src = pydicom.dcmread(source)
    sc = pydicom.dcmread(sc_path)
    picture = np.load(picture_path)
    expect(sc.file_meta.MediaStorageSOPClassUID == "1.2.840.10008.5.1.4.1.1.7", "meta SOP class")
    expect(sc.file_meta.MediaStorageSOPInstanceUID == sc.SOPInstanceUID, "meta SOP instance")
    expect(sc.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian, "transfer syntax")
    expect(sc.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7", f"SOPClassUID {sc.SOPClassUID}")
    for attr in ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
                 "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName"):
        expect(sc.get(attr) == src.get(attr), f"{attr}: {sc.get(attr)!r} != source {src.get(attr)!r}")
    for attr in ("SeriesInstanceUID", "SOPInstanceUID"):
        expect(sc.get(attr) != src.get(attr), f"{attr} is the source's")
    expect(pydicom.uid.UID(sc.SOPInstanceUID).is_valid, f"SOPInstanceUID {sc.SOPInstanceUID} invalid")
    if series_uid != "-":
        expect(sc.SeriesInstanceUID == series_uid, f"SeriesInstanceUID {sc.SeriesInstanceUID}")
    expect(sc.InstanceNumber == int(instance_number), f"InstanceNumber {sc.InstanceNumber}")
    expect(sc.Modality == "OT", f"Modality {sc.Modality}")
    expect(sc.ConversionType == "WSD", f"ConversionType {sc.ConversionType}")
    expect(list(sc.ImageType) == ["DERIVED", "SECONDARY"], f"ImageType {sc.ImageType}")
    expect(sc.BurnedInAnnotation == "NO", f"BurnedInAnnotation {sc.BurnedInAnnotation}")
    expect(sc.SeriesDescription == description, f"SeriesDescription {sc.SeriesDescription}")
    expect(sc.DerivationDescription == derivation, f"DerivationDescription {sc.DerivationDescription}")
    frames = int(src.get("NumberOfFrames", 1))
    check_reference(sc.SourceImageSequence, src, "SourceImageSequence", frames)
    check_reference(sc.ReferencedImageSequence, src, "ReferencedImageSequence", frames)

    rgb = picture.ndim == 3
    expect(sc.SamplesPerPixel == (3 if rgb else 1), f"SamplesPerPixel {sc.SamplesPerPixel}")
    expect(sc.PhotometricInterpretation == ("RGB" if rgb else "MONOCHROME2"), sc.PhotometricInterpretation)
    if rgb:
        expect(sc.PlanarConfiguration == 0, f"PlanarConfiguration {sc.PlanarConfiguration}")
    expect((sc.Rows, sc.Columns) == picture.shape[:2], f"Rows x Columns {sc.Rows}x{sc.Columns}")
    expect((sc.BitsAllocated, sc.BitsStored, sc.HighBit, sc.PixelRepresentation) == (8, 8, 7, 0), "pixel format")
    pixels = sc.pixel_array
    expect(pixels.shape == picture.shape and np.array_equal(pixels, picture), "pixel_array differs from the picture")


if __name__ == "__main__":
    main(*sys.argv[1:])
    for f in failures:
        print(f)
    sys.exit(1 if failures else 0)
