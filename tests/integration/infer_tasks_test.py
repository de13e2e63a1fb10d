"""`medtrain export` + `medtrain infer` for the multilabel and segmentation
tasks, end to end on demo data, against independent references:
torchvision's resnet18 and MONAI's BasicUNet with the bundle's weights on the
inputs infer fed its model (sigmoid probabilities; argmax masks), and the
trainer's own val/dice at export recomputed in NumPy from the masks infer
wrote and the demo masks (nearest-resized by torch)."""
import json

import numpy as np
import pytest
import torch
import yaml
from safetensors.numpy import load_file

from conftest import SOURCE, read_csv, run, val_manifest


def demo(root, *flags, count=48):
    out = root / "demo"
    r = run("demo-data", "--out", out, "--count", count, "--patients", 12, "--size", 64, "--seed", 9, *flags)
    assert r.returncode == 0, r.stderr
    return out


def train_export(root, data, recipe, *overrides, formats="safetensors"):
    runs = root / "runs"
    r = run("train", "-c", SOURCE / "configs/recipes" / f"{recipe}.yaml", "--set", f"data.root={data}",
            "--set", f"data.manifest={data}/manifest.csv", "--set", f"run.output_dir={runs}",
            "--set", "run.max_steps=3", "--set", "run.eval_every_steps=3", "--set", "checkpoint.every_steps=3",
            "--set", "data.workers=1", "--set", "run.device=cpu", "--set", "log.progress=none", *overrides,
            timeout=900)
    assert r.returncode == 0, r.stderr
    bundle = root / "bundle"
    r = run("export", "--checkpoint", runs / recipe / "ckpt/latest", "--format", formats, "--out", bundle)
    assert r.returncode == 0, r.stderr
    return bundle, yaml.safe_load((bundle / "model.yaml").read_text())


def infer(bundle, inputs, out):
    dump = out.with_suffix(".npy")
    r = run("infer", "--model", bundle, "--in", inputs, "--out", out, "--dump-inputs", dump, "--device", "cpu")
    assert r.returncode == 0, r.stderr
    return np.load(dump)


def weights(bundle):
    return {k: torch.from_numpy(v) for k, v in load_file(str(bundle / "model.safetensors")).items()}


def test_multilabel_probabilities_are_torchvision_sigmoids(tmp_path):
    import torchvision
    data = demo(tmp_path, "--multilabel")
    bundle, card = train_export(tmp_path, data, "chexnet_densenet121", "--set", "model.name=resnet18")
    assert card["task"] == "multilabel"
    labels = card["labels"]
    inputs = infer(bundle, data / "images", tmp_path / "pred.csv")
    infer(bundle, data / "images", tmp_path / "pred.jsonl")
    net = torchvision.models.resnet18(num_classes=2)
    net.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    net.load_state_dict(weights(bundle), strict=True)
    with torch.no_grad():
        expected = torch.sigmoid(net.eval()(torch.from_numpy(inputs))).numpy()
    rows = read_csv(tmp_path / "pred.csv")
    records = [json.loads(l) for l in (tmp_path / "pred.jsonl").read_text().splitlines()]
    probs = np.array([[float(r[f"prob_{l}"]) for l in labels] for r in rows])
    np.testing.assert_allclose(probs, expected, atol=1e-5)
    for r, j, p in zip(rows, records, expected):
        present = [l for l, v in zip(labels, p) if v >= 0.5]
        assert r["labels"] == "|".join(present) and j["labels"] == present


def dice_per_class(pred, truth, classes):
    out = []
    for c in range(classes):
        p, g = pred == c, truth == c
        denom = p.sum() + g.sum()
        out.append(2.0 * (p & g).sum() / denom if denom else float("nan"))
    return out


@pytest.mark.parametrize("recipe,flags,dims", [("ct_unet2d", ["--masks"], 2),
                                               ("ct_unet3d", ["--volumes", "--masks"], 3)])
def test_segmentation_masks_are_monai_argmax_and_reproduce_val_dice(tmp_path, recipe, flags, dims):
    from monai.networks.nets import BasicUNet
    data = demo(tmp_path, *flags, count=96 if dims == 3 else 48)
    bundle, card = train_export(tmp_path, data, recipe, formats="safetensors,onnx")
    assert card["task"] == "segmentation"
    rows, manifest = val_manifest(data, tmp_path)
    inputs = infer(bundle, manifest, tmp_path / "pred.csv")
    pred_rows = read_csv(tmp_path / "pred.csv")
    assert [r["path"] for r in pred_rows] == [str(data / r["path"]) for r in rows]
    net = BasicUNet(spatial_dims=dims, in_channels=1, out_channels=2)
    net.load_state_dict(weights(bundle), strict=True)
    with torch.no_grad():
        logits = net.eval()(torch.from_numpy(inputs)).numpy()
    expected = logits.argmax(1)
    # The bundle's ONNX graph (segmentation logits [N, K, (D,) S, S]) under ONNX Runtime.
    import onnxruntime
    session = onnxruntime.InferenceSession(str(bundle / "model.onnx"), providers=["CPUExecutionProvider"])
    ort_logits = session.run(None, {session.get_inputs()[0].name: inputs[:2]})[0]
    np.testing.assert_allclose(ort_logits, logits[:2], rtol=1e-4, atol=1e-4)
    masks = np.stack([np.load(tmp_path / r["mask"]) for r in pred_rows])
    assert masks.dtype == np.uint8
    np.testing.assert_array_equal(masks, expected)
    for r, m in zip(pred_rows, masks):
        assert r["shape"] == "x".join(map(str, m.shape))
        assert [int(r["pixels_background"]), int(r["pixels_lesion"])] == [int((m == 0).sum()), int((m == 1).sum())]
    # The trainer's val/dice at the exported step, from infer's masks and the demo masks.
    size = masks.shape[1:]
    truth = np.stack([torch.nn.functional.interpolate(
        torch.from_numpy(np.load(data / r["mask"]).astype(np.float32))[None, None], size=size, mode="nearest"
    )[0, 0].numpy().astype(np.int64) for r in rows])
    dice = dice_per_class(masks.astype(np.int64), truth, 2)
    assert abs(card["metrics"]["val/dice_lesion"] - dice[1]) < 1e-9 or (
        np.isnan(dice[1]) and np.isnan(card["metrics"]["val/dice_lesion"]))
    assert abs(card["metrics"]["val/dice_background"] - dice[0]) < 1e-9
