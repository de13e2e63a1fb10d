"""`medtrain infer --saliency` end to end on a tiny exported resnet18 (two
optimizer steps of the smoke recipe at 64x64) and two demo DICOM files,
against independent references:
  - the maps (--saliency-format npy) against pip MONAI's GradCAM and
    OcclusionSensitivity on torchvision's resnet18 with the bundle's weights,
    on the inputs infer fed its model (--dump-inputs); medtrain's maps are
    1 = most important, MONAI's Grad-CAM normaliser flips that;
  - the PNG overlays decoded by PIL: the input size, and the input itself
    (de-normalised to 8-bit gray, recomputed here) where the map is 0;
  - the Secondary Captures read by pydicom: SOP class, the source's patient
    and study, a new series, the source instance referenced, the PNG's pixels;
and the bad requests: one line, exit 2, nothing written."""
import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
import torch
import yaml
from PIL import Image
from safetensors.numpy import load_file

from conftest import assert_user_error, read_csv, run, tiny_resnet18_bundle

SC_CLASS = "1.2.840.10008.5.1.4.1.1.7"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, demo_data):
    return tiny_resnet18_bundle(tmp_path_factory.mktemp("saliency"), demo_data)


@pytest.fixture(scope="module")
def sources(tmp_path_factory, demo_data):
    """The first slice of two demo patients (two series, the same file name), in a folder of their own."""
    folder = tmp_path_factory.mktemp("sources")
    files = []
    for patient in sorted((demo_data / "images").iterdir())[:2]:
        first = sorted(patient.glob("*.dcm"))[0]
        (folder / patient.name).mkdir()
        files.append(shutil.copy(first, folder / patient.name / first.name))
    return [Path(f) for f in files]


def torchvision_resnet18(bundle):
    import torchvision
    net = torchvision.models.resnet18(num_classes=2)
    net.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in load_file(str(bundle / "model.safetensors")).items()})
    return net.eval()


def infer(bundle, sources, out, *flags):
    dump = out.parent / "inputs.npy"
    r = run("infer", "--model", bundle, "--in", sources[0].parent.parent, "--out", out, "--device", "cpu",
            "--dump-inputs", dump, *flags)
    assert r.returncode == 0, r.stderr
    return r, np.load(dump)


@pytest.fixture(scope="module")
def grad_cam(bundle, sources, tmp_path_factory):
    root = tmp_path_factory.mktemp("grad_cam")
    out = root / "pred.csv"
    r, inputs = infer(bundle, sources, out, "--saliency", "grad-cam", "--saliency-format", "png,dicom,npy")
    return r, inputs, read_csv(out), root


def test_csv_points_at_the_files_named_by_index_and_stem(grad_cam, sources):
    r, _, rows, root = grad_cam
    assert "saliency: 2 grad-cam maps -> " in r.stdout
    names = sorted(p.name for p in (root / "pred_saliency").iterdir())
    expected = [f"{i:06d}_{s.stem}.{ext}" for i, s in enumerate(sources) for ext in ("dcm", "npy", "png")]
    assert names == sorted(expected)
    assert [row["saliency"] for row in rows] == [f"pred_saliency/{i:06d}_{s.stem}.png" for i, s in enumerate(sources)]


def test_grad_cam_maps_are_monai_on_torchvision(grad_cam, bundle):
    from monai.visualize import GradCAM
    _, inputs, rows, root = grad_cam
    net = torchvision_resnet18(bundle)
    labels = yaml.safe_load((bundle / "model.yaml").read_text())["labels"]
    cam = GradCAM(nn_module=net, target_layers="layer4")
    for i, row in enumerate(rows):
        ours = np.load(root / row["saliency"].replace(".png", ".npy"))
        assert ours.shape == inputs.shape[2:] and ours.dtype == np.float32
        monai = cam(x=torch.from_numpy(inputs[i:i + 1]), class_idx=labels.index(row["label"]))[0, 0].numpy()
        assert monai.max() - monai.min() > 0.5  # layer4 is 2x2 at 64x64: a map, not a constant
        np.testing.assert_allclose(ours, 1.0 - monai, atol=1e-4)


def test_png_overlays_the_input_as_the_model_saw_it(grad_cam, bundle):
    _, inputs, rows, root = grad_cam
    pre = yaml.safe_load((bundle / "model.yaml").read_text())["preprocessing"]
    for i, row in enumerate(rows):
        png = np.asarray(Image.open(root / row["saliency"]))
        heat = np.load(root / row["saliency"].replace(".png", ".npy"))
        assert png.shape == (*inputs.shape[2:], 3) and png.dtype == np.uint8
        gray = np.round(np.clip(inputs[i, 0] * pre["std"] + pre["mean"], 0, 1) * 255).astype(np.uint8)
        cold = heat == 0
        assert cold.any()
        for c in range(3):
            np.testing.assert_array_equal(png[..., c][cold], gray[cold])
        assert not np.array_equal(png[..., 0], png[..., 2])  # the hot part is coloured


def test_secondary_captures_reference_their_sources(grad_cam, sources):
    _, _, rows, root = grad_cam
    series = set()
    for i, (row, source) in enumerate(zip(rows, sources)):
        src = pydicom.dcmread(source)
        sc = pydicom.dcmread(root / row["saliency"].replace(".png", ".dcm"))
        assert sc.SOPClassUID == SC_CLASS and sc.file_meta.MediaStorageSOPClassUID == SC_CLASS
        assert sc.StudyInstanceUID == src.StudyInstanceUID and sc.PatientID == src.PatientID
        assert sc.PatientName == src.PatientName
        assert sc.SeriesInstanceUID != src.SeriesInstanceUID and sc.SOPInstanceUID != src.SOPInstanceUID
        assert sc.Modality == "OT" and sc.ConversionType == "WSD" and list(sc.ImageType) == ["DERIVED", "SECONDARY"]
        assert sc.BurnedInAnnotation == "NO" and "Grad-CAM" in sc.SeriesDescription
        for seq in (sc.SourceImageSequence, sc.ReferencedImageSequence):
            assert len(seq) == 1 and seq[0].ReferencedSOPInstanceUID == src.SOPInstanceUID
            assert seq[0].ReferencedSOPClassUID == src.SOPClassUID
        assert sc.PhotometricInterpretation == "RGB" and sc.PlanarConfiguration == 0
        np.testing.assert_array_equal(sc.pixel_array, np.asarray(Image.open(root / row["saliency"])))
        series.add((src.SeriesInstanceUID, sc.SeriesInstanceUID))
    # One new series per source series (the two patients').
    assert len({s for s, _ in series}) == len({n for _, n in series}) == 2


def test_occlusion_maps_are_monai_on_torchvision(bundle, sources, tmp_path):
    from monai.visualize import OcclusionSensitivity
    out = tmp_path / "pred.jsonl"
    r, inputs = infer(bundle, sources, out, "--saliency", "occlusion", "--saliency-format", "npy")
    assert "saliency: 2 occlusion maps -> " in r.stdout
    records = [json.loads(l) for l in out.read_text().splitlines()]
    net = torchvision_resnet18(bundle)
    occ = OcclusionSensitivity(nn_module=net, mask_size=16, overlap=0.6, mode="gaussian", n_batch=16, verbose=False,
                               activate=lambda o: o.softmax(1))
    for i, rec in enumerate(records):
        assert list(rec["saliency"]) == ["npy"]
        ours = np.load(tmp_path / rec["saliency"]["npy"])
        with torch.no_grad():
            p = occ(torch.from_numpy(inputs[i:i + 1]))[0][0, rec["label_index"]].numpy()
        np.testing.assert_allclose(ours, (p.max() - p) / (p.max() - p.min()), atol=1e-4)


def fake_bundle(bundle, root, drop=(), **card):
    """The bundle with model.yaml changed (weights untouched: refused before they load)."""
    fake = root / "fake_bundle"
    shutil.copytree(bundle, fake)
    doc = yaml.safe_load((fake / "model.yaml").read_text())
    for key, value in card.items():  # mappings are merged into the card's own
        doc[key] = {**doc[key], **value} if isinstance(value, dict) and key in doc else value
    for key in drop:
        del doc[key]
    (fake / "model.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return fake


@pytest.mark.parametrize("flags,needles", [
    (["--saliency", "lime"], ["--saliency", "lime"]),
    (["--saliency", "grad-cam", "--saliency-format", "png,gif"], ["--saliency-format", "gif"]),
    (["--saliency-format", "png"], ["--saliency-format", "--saliency"]),
    (["--saliency-out", "maps"], ["--saliency-out", "--saliency"]),
])
def test_bad_flags_are_refused(bundle, sources, tmp_path, flags, needles):
    r = run("infer", "--model", bundle, "--in", sources[0], "--out", tmp_path / "p.csv", *flags, cwd=tmp_path)
    assert_user_error(r, *needles)
    assert list(tmp_path.iterdir()) == []


def test_existing_saliency_folder_is_refused(bundle, sources, tmp_path):
    (tmp_path / "p_saliency").mkdir()
    r = run("infer", "--model", bundle, "--in", sources[0], "--out", tmp_path / "p.csv", "--saliency", "grad-cam")
    assert_user_error(r, "p_saliency", "already exists")
    (tmp_path / "maps").mkdir()
    r = run("infer", "--model", bundle, "--in", sources[0], "--out", tmp_path / "p.csv", "--saliency", "occlusion",
            "--saliency-out", tmp_path / "maps")
    assert_user_error(r, "--saliency-out", "already exists")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["maps", "p_saliency"]
    assert list((tmp_path / "maps").iterdir()) == []


@pytest.mark.parametrize("card,drop,needles", [
    ({"architecture": "unet2d", "task": "segmentation", "labels": ["background", "lesion"]}, (), ["unet2d"]),
    ({"architecture": "bert", "text": {"max_length": 16, "encoder": "encoder"}}, ("preprocessing",), ["bert"]),
    ({"preprocessing": {"depth": 16}}, (),
     ["resnet18", "3D", "depth 16"]),
], ids=["segmentation", "text", "3d"])
def test_a_bundle_without_maps_is_refused_naming_its_architecture(bundle, sources, tmp_path, card, drop, needles):
    fake = fake_bundle(bundle, tmp_path, drop, **card)
    out = tmp_path / "out"
    out.mkdir()
    r = run("infer", "--model", fake, "--in", sources[0], "--out", out / "p.csv", "--saliency", "grad-cam")
    assert_user_error(r, "--saliency grad-cam", *needles)
    assert list(out.iterdir()) == []
